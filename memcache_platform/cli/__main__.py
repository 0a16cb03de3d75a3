"""``python -m memcache_platform.cli``: the ``memcache`` command."""

from memcache_platform.cli import main

if __name__ == "__main__":
    main(prog_name="memcache")
