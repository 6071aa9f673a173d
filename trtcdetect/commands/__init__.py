"""One module per subcommand: run (the default), render, probes, serve, demo."""
