"""The `qms` command line: parse options, call one core function, hand its result to a renderer."""
