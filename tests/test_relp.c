// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * relp__check_tls (check-config's forward TLS checks): a good set passes
 * with no line; each broken file or name gives one line that names the
 * key, the file and what to do. Certificates are made by the openssl tool
 * in a private directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "relp.h"

static char dir[] = "/var/tmp/sockaudit-test-relp.XXXXXX";
static char said[4096];
static int nsaid;

static void say(void *arg, const char *line)
{
	(void)arg;
	snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s\n", line);
	nsaid++;
}

static const char *path(const char *name)
{
	static char buf[4][256];
	static int k;

	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", dir, name);
	return buf[k];
}

static int sh(const char *fmt, const char *a)
{
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "cd %s && ", dir);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), fmt, a);
	return system(cmd);
}

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir))
		return -1;
	/* a CA, a client certificate it signs, another key, an encrypted key, not-PEM files */
	return sh("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		  "-subj /CN=ca -keyout ca.key -out ca.pem 2>/dev/null && "
		  "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=c "
		  "-keyout c.key -out c.csr 2>/dev/null && "
		  "openssl x509 -req -in c.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		  "-out c.pem 2>/dev/null && "
		  "openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out other.key "
		  "2>/dev/null && "
		  "openssl pkey -in c.key -aes256 -passout pass:x -out enc.key 2>/dev/null && "
		  "echo 'not a certificate' > text.pem && chmod 000 %s", "text.pem") ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	return sh("rm -rf %s", dir);
}

static int check(const char *ca, const char *cert, const char *key, const char *names)
{
	struct relp_tls t = { ca, cert, key, names };

	said[0] = 0;
	nsaid = 0;
	return relp__check_tls(&t, say, NULL);
}

static void good_set_passes(void **state)
{
	(void)state;
	assert_int_equal(check(path("ca.pem"), path("c.pem"), path("c.key"),
			       "relp-server, *.example.org,collector-2"), 0);
	assert_int_equal(nsaid, 0);
	/* no own certificate: server authentication only */
	assert_int_equal(check(path("ca.pem"), NULL, NULL, "relp-server"), 0);
}

static void missing_ca_is_one_line(void **state)
{
	(void)state;
	assert_int_equal(check(path("nope.pem"), path("c.pem"), path("c.key"), "a"), 1);
	assert_int_equal(nsaid, 1);
	assert_non_null(strstr(said, "forward.ca_file"));
	assert_non_null(strstr(said, "nope.pem is not readable: No such file"));
}

static void not_pem_is_said(void **state)
{
	(void)state;
	/* text.pem is mode 000: unreadable unless root, then not PEM; either way one line */
	assert_int_equal(check(path("text.pem"), path("c.pem"), path("c.key"), "a"), 1);
	assert_true(strstr(said, "holds no PEM certificate") || strstr(said, "is not readable"));
	/* a key given as the certificate: no certificate in it */
	assert_int_equal(check(path("ca.pem"), path("c.key"), path("c.key"), "a"), 1);
	assert_non_null(strstr(said, "forward.cert_file"));
	assert_non_null(strstr(said, "holds no PEM certificate"));
	/* a certificate given as the key */
	assert_int_equal(check(path("ca.pem"), path("c.pem"), path("c.pem"), "a"), 1);
	assert_non_null(strstr(said, "forward.key_file"));
	assert_non_null(strstr(said, "holds no PEM private key"));
}

static void wrong_or_encrypted_key(void **state)
{
	(void)state;
	assert_int_equal(check(path("ca.pem"), path("c.pem"), path("other.key"), "a"), 1);
	assert_non_null(strstr(said, "other.key is not the key of forward.cert_file"));
	assert_int_equal(check(path("ca.pem"), path("c.pem"), path("enc.key"), "a"), 1);
	assert_non_null(strstr(said, "without a passphrase"));
}

static void peer_names_syntax(void **state)
{
	(void)state;
	assert_int_equal(check(path("ca.pem"), NULL, NULL, "good.example, bad_name, -x, a..b, x*"),
			 4);
	assert_non_null(strstr(said, "'bad_name' is not a DNS name"));
	assert_non_null(strstr(said, "'-x' is not a DNS name"));
	assert_non_null(strstr(said, "'a..b' is not a DNS name"));
	assert_non_null(strstr(said, "'x*' is not a DNS name"));
	assert_null(strstr(said, "good.example"));
	assert_int_equal(check(path("ca.pem"), NULL, NULL, " , "), 1);
	assert_non_null(strstr(said, "forward.peer_names is empty"));
}

static void every_problem_counted(void **state)
{
	(void)state;
	/* CA missing, key mismatch, one bad name: three lines */
	assert_int_equal(check(path("nope.pem"), path("c.pem"), path("other.key"), "ok, b@d"), 3);
	assert_int_equal(nsaid, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_set_passes),
		cmocka_unit_test(missing_ca_is_one_line),
		cmocka_unit_test(not_pem_is_said),
		cmocka_unit_test(wrong_or_encrypted_key),
		cmocka_unit_test(peer_names_syntax),
		cmocka_unit_test(every_problem_counted),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
