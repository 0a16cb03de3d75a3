"""memcache_platform: cache tiers in front of Mem0 for AI applications."""

__version__ = "0.1.0"
