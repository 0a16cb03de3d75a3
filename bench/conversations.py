"""Realistic conversational data: users, each with hundreds of multi-sentence chat turns, and questions.

A turn is what one chat message of a user says: one to four sentences, mixing statements the
``rules`` extractor turns into facts (favourites, likes and dislikes, skills, languages, where the
user lives and works, their name, one-off events) with sentences that state nothing (questions,
pleasantries), as in real chat. As a conversation goes on, the user also changes their mind
("My favourite food is ramen" after "... is pho": an UPDATE), takes things back ("I don't like
hiking anymore": a DELETE), moves and changes jobs, and repeats themselves (a NONE).

Deterministic: user ``i`` of a seed is the same whatever the number of users asked for, so a
``tiny`` data set is a prefix of a ``full`` one. Each turn carries the facts it was written to
state (``Turn.facts``), which ``tests/bench/test_conversations.py`` checks against the real extractor.

Questions: each user asks about their own topics; the question catalogue is ordered by global
popularity, and a stream draws users and questions by Zipf, so the same questions come back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bench.data import DISLIKES, FAVOURITE_TOPICS, HOMES, JOBS, LANGUAGES, LIKES, NAMES, SKILLS, zipf

# Per bench size: how many users and how many turns each (scenarios scale from these).
SIZES: dict[str, dict[str, int]] = {
    "tiny": {"users": 3, "turns": 12},
    "quick": {"users": 40, "turns": 80},
    "full": {"users": 200, "turns": 300},
}
# A value with a full stop ("Ursula K. Le Guin") would read as two sentences.
FAVOURITES = {topic: [v for v in values if "." not in v] for topic, values in FAVOURITE_TOPICS.items()}
EMPLOYERS = [
    "Acme",
    "Globex",
    "Initech",
    "the city council",
    "a small bakery",
    "Umbrella",
    "Stark Industries",
]
# Sentences that state nothing: questions and pleasantries (a statement of two or more other
# words would be stored as an "other" fact).
FILLERS = [
    "Thanks!",
    "Ok cool.",
    "Haha yeah.",
    "Good morning!",
    "Thank you so much.",
    "Hmm.",
    "What should I cook tonight?",
    "Can you remind me what we talked about yesterday?",
    "How long does it take to boil an egg?",
    "Any ideas for the weekend?",
    "Is it going to rain tomorrow?",
    "What's a good book to read next?",
    "Could you help me plan a trip?",
    "Do you remember what I told you?",
    "How do I fix a flat tyre?",
    "Which film should we watch tonight?",
]
# One-off events and possessions: each combination a distinct "other" memory that accumulates.
PLACES = ["Iceland", "Japan", "Peru", "Morocco", "Norway", "Vietnam", "Chile", "Greece", "Canada", "Kenya"]
PETS = ["dog", "cat", "parrot", "rabbit", "tortoise", "hamster"]
PET_NAMES = ["Rex", "Miso", "Pepper", "Luna", "Biscuit", "Ziggy", "Olive", "Mango", "Tofu", "Nori"]
EVENTS = ["a concert", "a wedding", "a hackathon", "a pottery class", "a book club", "a food festival"]
MONTHS = ["January", "March", "May", "July", "September", "November"]
RELATIVES = ["sister", "brother", "mother", "father", "cousin", "neighbour", "best friend"]
DISHES = ["lasagna", "a curry", "pancakes", "a risotto", "dumplings", "a paella", "banana bread"]
OTHER_TEMPLATES = [
    ("I visited {place} in {year}", {"place": PLACES, "year": [str(y) for y in range(2005, 2026)]}),
    ("I have a {pet} called {name}", {"pet": PETS, "name": PET_NAMES}),
    ("I went to {event} in {city} last {month}", {"event": EVENTS, "city": HOMES, "month": MONTHS}),
    (
        "I cooked {dish} for my {relative} on {month} {day}",
        {"dish": DISHES, "relative": RELATIVES, "month": MONTHS, "day": [str(d) for d in range(1, 29)]},
    ),
]
# Kind -> (sentence shapes, values, the extractor's category): one fact each, value kept whole.
STATEMENTS: dict[str, tuple[list[str], list[str], str]] = {
    "like": (["I love {}.", "I really enjoy {}.", "I like {}."], LIKES, "favorite"),
    "dislike": (["I hate {}.", "I can not stand {}."], DISLIKES, "dislike"),
    "skill": (["I'm good at {}."], SKILLS, "skill"),
    "language": (["I speak {}."], LANGUAGES, "skill"),
    "home": (["I live in {}.", "I just moved to {}."], HOMES, "profile"),
    "job": (["I work as a {}."], JOBS, "profile"),
    "employer": (["I work at {}."], EMPLOYERS, "profile"),
    "name": (["My name is {}."], NAMES, "profile"),
}
# Sentence kinds of a turn and their weights (about 70% of sentences state a fact).
KINDS = {
    "filler": 30,
    "favourite": 14,
    "like": 12,
    "dislike": 5,
    "skill": 7,
    "language": 3,
    "home": 2,
    "job": 2,
    "employer": 2,
    "name": 1,
    "other": 12,
    "retract": 4,
    "restate": 6,
}
SENTENCES_PER_TURN = [1, 2, 2, 3, 3, 4]
# Questions per kind of fact; a user asks the ones about kinds they talked about. Ordered by how
# popular they are across users (rank 0 first), which the Zipf stream uses.
QUESTIONS = [
    ("like", "what do I enjoy doing"),
    ("home", "where do I live"),
    ("job", "what do I do for work"),
    ("skill", "what am I good at"),
    ("name", "what is my name"),
    ("dislike", "what do I dislike"),
    ("language", "which languages do I speak"),
    ("other", "where have I travelled"),
    ("employer", "where do I work"),
    ("other", "tell me about my pets"),
    ("like", "what are my hobbies"),
]


@dataclass(frozen=True)
class Expected:
    """A fact a sentence was written to state: the extractor's category, value and retract flag."""

    category: str
    value: str | None  # None for "other" facts (their text is the statement)
    retract: bool = False


@dataclass(frozen=True)
class Turn:
    """One chat message of the user and the facts its sentences state, in order."""

    text: str
    facts: tuple[Expected, ...]

    def messages(self) -> list[dict[str, str]]:
        return [{"role": "user", "content": self.text}]


@dataclass(frozen=True)
class Conversation:
    """One user's chat turns and the questions they ask about themselves, most popular first."""

    user_id: str
    turns: list[Turn]
    queries: list[str]


@dataclass
class _Speaker:
    """What one user has said so far: what the next sentence can change, retract or repeat."""

    rng: np.random.Generator
    likes: list[str] = field(default_factory=list)
    said: list[tuple[str, Expected]] = field(default_factory=list)
    kinds: set[str] = field(default_factory=set)
    favourite_topics: set[str] = field(default_factory=set)

    def pick(self, items: list[str]) -> str:
        return items[int(self.rng.integers(len(items)))]

    def sentence(self, kind: str) -> tuple[str, Expected | None]:
        """A sentence of ``kind`` and the fact it states (None: it states nothing)."""
        if kind == "filler":
            return self.pick(FILLERS), None
        if kind == "retract":
            if not self.likes:
                return self.pick(FILLERS), None
            value = self.likes.pop(int(self.rng.integers(len(self.likes))))
            return f"I don't like {value} anymore.", Expected("favorite", value, retract=True)
        if kind == "restate":
            if not self.said:
                return self.pick(FILLERS), None
            text, fact = self.said[int(self.rng.integers(len(self.said)))]
            if fact.category == "favorite" and fact.value not in self.likes:
                self.likes.append(fact.value or "")  # a like taken back and now said again
            return text, fact
        text, fact = self._statement(kind)
        self.kinds.add(kind)
        if fact.category == "favorite" and kind == "like" and fact.value not in self.likes:
            self.likes.append(fact.value or "")
        if kind not in ("favourite", "home", "job", "employer", "name"):
            self.said.append((text, fact))  # single-valued kinds may have changed since: not restated
        return text, fact

    def _statement(self, kind: str) -> tuple[str, Expected]:
        if kind == "favourite":
            topic = self.pick(list(FAVOURITES))
            self.favourite_topics.add(topic)
            value = self.pick(FAVOURITES[topic])
            return f"My favourite {topic} is {value}.", Expected("favorite", value)
        if kind in STATEMENTS:
            templates, values, category = STATEMENTS[kind]
            value = self.pick(values)
            return self.pick(templates).format(value), Expected(category, value)
        template, slots = OTHER_TEMPLATES[int(self.rng.integers(len(OTHER_TEMPLATES)))]
        text = template.format(**{slot: self.pick(values) for slot, values in slots.items()})
        return f"{text}.", Expected("other", None)


class ConversationGen:
    """Deterministic for a seed; ``token`` makes user ids unique per run (servers given by URL)."""

    def __init__(self, seed: int = 7, token: str = "") -> None:
        self.seed = seed
        self.token = token
        self._kinds = list(KINDS)
        weights = np.array(list(KINDS.values()), dtype=float)
        self._weights = weights / weights.sum()

    def conversation(self, prefix: str, index: int, turns: int) -> Conversation:
        """User ``index``'s first ``turns`` turns (the same user for any number of users or turns)."""
        speaker = _Speaker(np.random.default_rng([self.seed, index]))
        made = [self._turn(speaker) for _ in range(turns)]
        queries = [question for kind, question in QUESTIONS if kind in speaker.kinds]
        queries += [f"what is my favourite {topic}" for topic in sorted(speaker.favourite_topics)]
        return Conversation(f"{prefix}-{index}", made, queries)

    def conversations(self, prefix: str, users: int, turns: int) -> list[Conversation]:
        return [self.conversation(prefix, i, turns) for i in range(users)]

    def continued(self, conversation: Conversation, turns: int) -> list[Turn]:
        """The ``turns`` turns that follow ``conversation``: what the user says next."""
        index = int(conversation.user_id.rsplit("-", 1)[1])
        longer = self.conversation("", index, len(conversation.turns) + turns)
        return longer.turns[len(conversation.turns) :]

    def stating(self, conversation: Conversation, n: int) -> list[Turn]:
        """The user's next ``n`` turns that state at least one fact (a turn of questions writes nothing)."""
        ahead = 2 * n + 4
        while len(turns := [t for t in self.continued(conversation, ahead) if t.facts]) < n:
            ahead *= 2
        return turns[:n]

    def _turn(self, speaker: _Speaker) -> Turn:
        n = int(speaker.rng.choice(SENTENCES_PER_TURN))
        kinds = speaker.rng.choice(len(self._kinds), size=n, p=self._weights)
        texts: list[str] = []
        facts: list[Expected] = []
        for k in kinds:
            text, fact = speaker.sentence(self._kinds[int(k)])
            if text in texts or (fact is not None and fact.value is not None and fact in facts):
                continue  # said twice in one message: the extractor keeps it once, and so does the turn
            texts.append(text)
            if fact is not None:
                facts.append(fact)
        return Turn(" ".join(texts), tuple(facts))

    def query_stream(
        self, conversations: list[Conversation], n: int, *, s: float = 1.1
    ) -> list[tuple[int, str]]:
        """``n`` (user index, question) pairs: users by Zipf(``s``), each user's questions by Zipf(``s``)."""
        rng = np.random.default_rng([self.seed, 1_000_003])
        users = zipf(rng, len(conversations), n, s)
        stream = []
        for user in users.tolist():
            queries = conversations[user].queries
            rank = int(zipf(rng, len(queries), 1, s)[0])
            stream.append((user, queries[rank]))
        return stream


def describe(conversations: list[Conversation], memories: list[int] | None = None) -> dict:
    """The data set's size for the report: users, turns, facts stated and memories stored per user."""
    users = max(1, len(conversations))
    turns = sum(len(c.turns) for c in conversations)
    out = {
        "users": len(conversations),
        "turns": turns,
        "turns_per_user": round(turns / users, 1),
        "facts_stated": sum(len(t.facts) for c in conversations for t in c.turns),
        "queries_per_user": round(sum(len(c.queries) for c in conversations) / users, 1),
    }
    if memories:
        out["memories_per_user"] = {
            "mean": round(sum(memories) / len(memories), 1),
            "min": min(memories),
            "max": max(memories),
        }
    return out
