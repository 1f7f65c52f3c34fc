"""One module per `repro` subcommand, imported lazily by repro.cli."""
