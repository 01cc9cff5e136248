"""One module per ``styleseg`` subcommand; each defines ``register(subparsers)``."""
