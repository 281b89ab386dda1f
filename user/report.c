int report__main(int argc, char **argv); int report__main(int argc, char **argv) { return 2; }
