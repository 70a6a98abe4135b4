"""The defaults `--help` names, as they are where the command runs: an installed server's
(/etc/clausewarden, /var/lib/clausewarden) or, in a source checkout, the checkout's own folders.
An admin reading `--help` on the server never reads of `config/` or `./data`."""

from policy.configdir import CONFIG_ENV, SYSTEM_CONFIG_DIR, running_from_checkout

if running_from_checkout():
    CONFIG_HELP = f"configuration folder (default: ${CONFIG_ENV}, else the checkout's config/)"
    DATA_HELP = (
        "data folder: SQLite file, keys, the extension package (default: $CLAUSEWARDEN_DATA, "
        "else the checkout's data/)"
    )
else:
    CONFIG_HELP = (
        f"configuration folder (default: ${CONFIG_ENV}, else {SYSTEM_CONFIG_DIR} when it "
        "exists, else the built-in one)"
    )
    DATA_HELP = (
        "data folder: SQLite file, keys, the extension package (default: $CLAUSEWARDEN_DATA, "
        "else /var/lib/clausewarden)"
    )
