"""Session fixtures for nginx on 127.0.0.1 and a busybox-only PATH (rget and rget.sh)."""
