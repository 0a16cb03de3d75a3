"""The benchmark of memcache_platform: `python -m bench --help`, `make bench` (see bench/README.md)."""
