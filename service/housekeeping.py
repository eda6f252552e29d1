"""Clients' housekeeping prompts: a chat's title, its tags, follow-up suggestions, answered without any model.

Chat clients (Open WebUI among them) send their own prompts to the chat's model between questions: "make a title
for this chat, reply with JSON", the same for tags, follow-up questions, search queries. Answering one as a
question about the reports costs a model minute and says nothing useful. Such a prompt is recognised by general
signs, not by one client's wording: it asks for a JSON reply (names a JSON object's key, ``{ "title": …``) and it
is about the conversation (a chat history block, or words saying so). Its answer is made at once from the
conversation's own questions: a title from the last question, tags from the places and institutions it names,
follow-ups from the knowledge base's starter questions (``assistant.starters``, found ahead of time) not yet
asked, a search query that is the question itself.

Owns: recognising such a prompt (``task``), reading the user's questions out of its history, and the JSON reply.
Does not own: the starter questions (``ops.library`` keeps them), the OpenAI schema or HTTP.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from assistant.core import topic
from kb.entities import named

_ASKS_JSON = re.compile(r"\bjson\b", re.I)
_KEY = re.compile(r"""\{\s*["'](\w{1,40})["']\s*:\s*(\[|["'{])""")
_ABOUT_CHAT = re.compile(r"<chat_history>|chat[ _]history|conversation|对话历史|聊天记录|对话记录|会话历史", re.I)
_HISTORY = re.compile(r"<chat_history>(.*?)</chat_history>", re.S | re.I)
_TURN = re.compile(r"^(USER|ASSISTANT|SYSTEM|用户|助手)\s*[:：]\s?", re.M | re.I)
TITLE_CHARS = 24
DEFAULT_TITLE = "试点问答"


@dataclass(frozen=True)
class Task:
    """A housekeeping prompt: the JSON key its reply must hold, whether that key holds a list, and the user's
    questions in the conversation it is about (oldest first)."""

    key: str
    listed: bool
    questions: tuple[str, ...]


def task(prompt: str) -> Task | None:
    """The housekeeping task ``prompt`` asks for, or None when it is a question to answer."""
    key = _KEY.search(prompt)
    if key is None or not _ASKS_JSON.search(prompt) or not _ABOUT_CHAT.search(prompt):
        return None
    history = _HISTORY.search(prompt)
    return Task(key.group(1), key.group(2) == "[", _user_turns(history.group(1) if history else ""))


def _user_turns(history: str) -> tuple[str, ...]:
    """The user's messages in a history written ``USER: …`` / ``ASSISTANT: …`` (a message may run over lines)."""
    marks = list(_TURN.finditer(history))
    turns = []
    for m, after in zip(marks, [*marks[1:], None], strict=True):
        text = history[m.end() : after.start() if after else len(history)].strip()
        if m.group(1).lower() in ("user", "用户") and text:
            turns.append(text)
    return tuple(turns)


def title(question: str) -> str:
    """A chat's title made from its question: the question's subject (its question words and mark dropped)."""
    subject = re.sub(r"\s+", " ", topic(question)).strip()
    return (subject[:TITLE_CHARS] + ("…" if len(subject) > TITLE_CHARS else "")) if subject else DEFAULT_TITLE


def tags(questions: tuple[str, ...]) -> list[str]:
    """Tags: the places and institutions the questions name (at most three), after the reports' field."""
    names = dict.fromkeys(n.name for q in questions for n in named(q) if n.kind in ("place", "org"))
    return ["金融科技试点", *list(names)[:3]]


def reply(t: Task, starters: list[str]) -> str:
    """The JSON text that answers task ``t`` (``starters``: the knowledge base's starter questions)."""
    last = t.questions[-1] if t.questions else ""
    value: object
    if t.key == "title":
        value = title(last) if last else DEFAULT_TITLE
    elif t.key == "tags":
        value = tags(t.questions)
    elif t.key in ("follow_ups", "followups", "questions", "suggestions"):
        asked = set(t.questions)
        value = [q for q in starters if q not in asked][:3]
    elif t.key == "queries":
        value = [last] if last else []
    else:  # a task this service does not know: an empty value of the shape asked for
        value = [] if t.listed else ""
    return json.dumps({t.key: value}, ensure_ascii=False)
