"""Seeded, realistic benchmark data: memories and queries per user, and a Zipf stream over users.

About 30 topics with about 10 values each; sentences are the kind the ``rules`` extractor reads
("My favourite food is pho", "I'm good at Python", "I live in Lisbon", likes, dislikes, free-form
facts), and each user's queries ask about that user's own topics ("what food do I like").
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# topic -> values; "favourite" topics become "My favourite <topic> is <value>".
FAVOURITE_TOPICS: dict[str, list[str]] = {
    "food": ["pho", "ramen", "sushi", "pizza", "tacos", "paella", "curry", "dumplings", "falafel", "lasagna"],
    "drink": ["green tea", "espresso", "lemonade", "mango lassi", "cider", "kombucha", "mate", "chai"],
    "colour": ["teal", "crimson", "navy blue", "olive green", "mustard", "lavender", "coral", "charcoal"],
    "band": ["Radiohead", "ABBA", "Daft Punk", "Queen", "The Beatles", "Massive Attack", "Portishead"],
    "music genre": ["jazz", "techno", "fado", "bossa nova", "punk rock", "hip hop", "classical", "reggae"],
    "movie": ["Spirited Away", "Alien", "Amelie", "Heat", "Parasite", "Casablanca", "Arrival", "Up"],
    "book": ["Dune", "Middlemarch", "Neuromancer", "Beloved", "Solaris", "The Hobbit", "Ulysses"],
    "author": ["Ursula K. Le Guin", "Toni Morrison", "Italo Calvino", "Haruki Murakami", "Jane Austen"],
    "sport": ["tennis", "climbing", "rowing", "basketball", "surfing", "fencing", "cycling", "judo"],
    "city": ["Lisbon", "Kyoto", "Montreal", "Cape Town", "Oaxaca", "Tbilisi", "Helsinki", "Hanoi"],
    "season": ["autumn", "spring", "winter", "summer"],
    "animal": ["otters", "owls", "red pandas", "octopuses", "foxes", "whales", "herons", "capybaras"],
    "fruit": ["mango", "persimmon", "fig", "lychee", "cherry", "passion fruit", "pear", "kiwi"],
    "dessert": ["tiramisu", "mochi", "baklava", "churros", "flan", "brownies", "pastel de nata"],
    "game": ["chess", "Go", "Tetris", "Catan", "Zelda", "Minecraft", "bridge", "Hades"],
    "tv show": ["The Wire", "Fleabag", "Succession", "Severance", "Twin Peaks", "Bluey", "Dark"],
    "podcast": ["Radiolab", "99% Invisible", "Hardcore History", "Reply All", "Serial", "The Daily"],
    "painter": ["Hokusai", "Frida Kahlo", "Vermeer", "Monet", "Basquiat", "Hopper", "Klimt"],
    "flower": ["peonies", "tulips", "orchids", "sunflowers", "lilacs", "magnolias", "poppies"],
    "car": ["Volvo 240", "Mini Cooper", "Land Cruiser", "Beetle", "Tesla Model 3", "Fiat Panda"],
    "cuisine": ["Vietnamese", "Georgian", "Ethiopian", "Peruvian", "Korean", "Lebanese", "Mexican"],
    "breakfast": ["porridge", "shakshuka", "pancakes", "congee", "croissants", "huevos rancheros"],
    "holiday destination": ["the Azores", "Patagonia", "Sicily", "Bali", "Lapland", "Zanzibar"],
    "bird": ["kingfishers", "puffins", "magpies", "hummingbirds", "ravens", "flamingos"],
    "poet": ["Fernando Pessoa", "Mary Oliver", "Pablo Neruda", "Wislawa Szymborska", "Basho"],
}
LIKES = [
    "hiking",
    "board games",
    "spicy food",
    "jazz clubs",
    "long walks",
    "gardening",
    "baking bread",
    "podcasts",
    "camping",
    "yoga",
    "karaoke",
    "photography",
    "birdwatching",
    "cold showers",
    "museums",
    "sailing",
    "crosswords",
    "street food",
    "live theatre",
    "road trips",
]
DISLIKES = [
    "olives",
    "cilantro",
    "mornings",
    "traffic",
    "loud music",
    "horror movies",
    "mushrooms",
    "humidity",
    "small talk",
    "raisins",
    "crowds",
    "country music",
    "queues",
    "reality shows",
    "flying",
    "licorice",
    "cold coffee",
    "pineapple on pizza",
]
SKILLS = [
    "Python",
    "Rust",
    "Go",
    "SQL",
    "TypeScript",
    "Kotlin",
    "Haskell",
    "public speaking",
    "knitting",
    "woodworking",
    "data analysis",
    "negotiation",
    "calligraphy",
    "salsa dancing",
]
LANGUAGES = ["Portuguese", "Japanese", "Spanish", "German", "Swahili", "Korean", "French", "Arabic"]
HOMES = ["Lisbon", "Berlin", "Nairobi", "Osaka", "Toronto", "Porto", "Melbourne", "Bogota", "Oslo"]
JOBS = ["nurse", "data engineer", "carpenter", "teacher", "translator", "pilot", "chef", "librarian"]
NAMES = ["Ana", "Kenji", "Amara", "Lucas", "Ingrid", "Omar", "Mei", "Tomas", "Priya", "Noah"]
FREE_FORM = [
    "I have a dog called Rex",
    "I ran a marathon in 2019",
    "I'm allergic to peanuts",
    "I grew tomatoes on my balcony last summer",
    "I have two sisters",
    "I cycle to work",
    "I visited Iceland in 2022",
    "I wake up at six every day",
    "I have a cat named Miso",
    "I broke my arm skiing once",
    "I volunteer at the food bank",
    "I collect vinyl records",
]

TOPIC_QUERIES = {
    "like": ["what do I enjoy doing", "what are my hobbies"],
    "dislike": ["what do I dislike", "what things do I hate"],
    "skill": ["what am I good at", "which skills do I have"],
    "language": ["which languages do I speak", "which languages do I know"],
    "home": ["where do I live", "which city am I based in"],
    "job": ["what is my job", "what do I do for work"],
    "name": ["what is my name"],
    "free": ["tell me about my pets", "what have I done in the past"],
}


@dataclass(frozen=True)
class UserData:
    """One user's memories (sentences to write) and queries (questions about them)."""

    user_id: str
    memories: list[str]
    queries: list[str]


def topic_count() -> int:
    return len(FAVOURITE_TOPICS) + len(TOPIC_QUERIES)


def value_count() -> int:
    pools = [LIKES, DISLIKES, SKILLS, LANGUAGES, HOMES, JOBS, NAMES, FREE_FORM]
    return sum(len(v) for v in FAVOURITE_TOPICS.values()) + sum(len(p) for p in pools)


class DataGen:
    """Deterministic for a seed: the same seed gives the same users, memories and streams."""

    def __init__(self, seed: int = 7, token: str = "") -> None:
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.token = token  # makes query texts and user ids unique per run (servers given by URL)
        self._fresh = 0

    def _pick(self, items: list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def memory(self) -> tuple[str, str]:
        """One sentence and the query kind it answers ("fav:<topic>", "like", "skill", ...)."""
        kind = self._pick(
            ["fav", "fav", "fav", "like", "dislike", "skill", "language", "home", "job", "name", "free"]
        )
        if kind == "fav":
            topic = self._pick(list(FAVOURITE_TOPICS))
            return f"My favourite {topic} is {self._pick(FAVOURITE_TOPICS[topic])}", f"fav:{topic}"
        sentence = {
            "like": lambda: f"I {self._pick(['love', 'like', 'enjoy'])} {self._pick(LIKES)}",
            "dislike": lambda: f"I {self._pick(['hate', 'dislike'])} {self._pick(DISLIKES)}",
            "skill": lambda: f"I'm good at {self._pick(SKILLS)}",
            "language": lambda: f"I {self._pick(['speak', 'know'])} {self._pick(LANGUAGES)}",
            "home": lambda: f"I live in {self._pick(HOMES)}",
            "job": lambda: f"I work as a {self._pick(JOBS)}",
            "name": lambda: f"My name is {self._pick(NAMES)}",
            "free": lambda: self._pick(FREE_FORM),
        }[kind]()
        return sentence, kind

    def query_for(self, kind: str) -> str:
        if kind.startswith("fav:"):
            topic = kind[4:]
            return self._pick([f"what {topic} do I like", f"what is my favourite {topic}"])
        return self._pick(TOPIC_QUERIES[kind])

    def user(self, user_id: str, n_memories: int, n_queries: int) -> UserData:
        """A user with ``n_memories`` sentences and up to ``n_queries`` distinct questions about them."""
        memories, kinds = [], []
        for _ in range(n_memories):
            text, kind = self.memory()
            memories.append(text)
            kinds.append(kind)
        queries: list[str] = []
        for kind in kinds * 2:
            if len(queries) >= n_queries:
                break
            query = self.query_for(kind)
            if query not in queries:
                queries.append(query)
        return UserData(user_id, memories, queries)

    def fresh_query(self) -> str:
        """A query no cache has seen: a realistic question with a per-run unique tail."""
        self._fresh += 1
        base = self.query_for(self.memory()[1])
        return f"{base} (asked {self.token}-{self._fresh})"

    def zipf_ranks(self, n_items: int, n_draws: int, s: float = 1.1) -> np.ndarray:
        """``n_draws`` indices in [0, n_items), P(k) proportional to (k+1)^-s: Zipf over a finite set."""
        return zipf(self.rng, n_items, n_draws, s)


def zipf(rng: np.random.Generator, n_items: int, n_draws: int, s: float = 1.1) -> np.ndarray:
    """``n_draws`` indices in [0, n_items), P(k) proportional to (k+1)^-s: Zipf over a finite set."""
    weights = np.arange(1, n_items + 1, dtype=float) ** -s
    return rng.choice(n_items, size=n_draws, p=weights / weights.sum())
