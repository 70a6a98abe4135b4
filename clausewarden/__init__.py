"""The imperative shell: reading the school's files, the command line."""
