"""Fact extractors: turn chat messages into short, categorised memories."""

from memcache_platform.extractors.base import CATEGORIES, Extractor, Fact
from memcache_platform.extractors.rules import RulesExtractor

__all__ = ["CATEGORIES", "Extractor", "Fact", "RulesExtractor"]
