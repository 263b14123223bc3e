"""Realistic message text for S9 (search at 1,000,000 messages): deterministic, fast, varied.

Each message is a Zipf-distributed run of words from a vocabulary mixing English, German,
French, Spanish, Russian, Greek, Arabic and Hebrew words (real common words first, then
generated ones, ~30,000 in all), with, in some messages, code tokens (hostnames, ticket ids,
dotted identifiers, camelCase, file paths), URLs, a Chinese or Japanese sentence, emoji. The
query words of each class in S9 are picked from what was generated (``Planted``), so every
class has matches of the size it is meant to have.
"""

from __future__ import annotations

import bisect
import itertools
import random
from dataclasses import dataclass, field

_COMMON = {
    "en": "the to and a of is in it you that for on this be with have not are was but just can so we "
          "if at do what no my all like will get up there out one about think know can't need time "
          "should would good now back server issue fix deploy build release update test works broken "
          "error log config disk network backup restart cluster node service docker kernel upgrade "
          "tomorrow today yesterday meeting thanks please sorry maybe really actually problem again",
    "de": "und der die das ist nicht ich es ein mit auf für wir sie zu auch noch schon mal aber "
          "heute morgen danke bitte später Büro Straße grüße Lösung Fehler Größe Prüfung über",
    "fr": "le la les de et est pas je un une pour que avec sur mais très été déjà où ça café "
          "problème réseau mise à jour serveur demain hier merci voilà après",
    "es": "el la que de y en no es un por con para una está también pero más año mañana señal "
          "niño canción información",
    "ru": "и в не на я что он с как это по но из у за от сервер ошибка привет спасибо сегодня "
          "завтра обновление",
    "el": "και το να η ο της σε με για που δεν είναι ελληνικά διακομιστής ευχαριστώ",
    "ar": "في من على أن إلى هذا مع عن كان مرحبا شكرا خادم مشكلة",
    "he": "של את על לא זה עם אני גם שלום תודה שרת בעיה",
}
_SYLLABLES = {
    "en": "ba be bi bo bu ca co da de di do fa fe ga go ha he ka ke la le li lo ma me mi mo na ne "
          "ni no pa pe pi po ra re ri ro sa se si so ta te ti to va ve wa we ya yo za ze".split(),
    "de": "ach bau ber ein fen gel hau kar lin mut ner ost pf rei sch sta ung wal zeit ück äu öl".split(),
    "fr": "ai ban ché dé eau fé gne ille jou lé mé nou pré qué ré té vé zé".split(),
    "ru": "ва го да ки ло ми но по ра се то фу ше ю я".split(),
}
_EMOJI = "🚀 👍 😂 🎉 🔥 ❤️ 🙏 😅 👀 ✅ ❌ ⚠️ 🐛 💾".split()
_CJK = ["我家在上海东边", "服务器重启了", "今天的会议取消", "数据库备份完成", "サーバーを再起動しました",
        "明日の会議", "バックアップが終わった", "网络有问题", "上海和北京", "日本語のテスト"]
_TLDS = ["internal", "example.org", "lan", "corp.net", "home.arpa"]
_PATHS = ["/var/log/syslog", "/etc/nginx/nginx.conf", "~/src/chatd/sql", "C:\\Users\\admin\\notes.txt",
          "/srv/backup/2024-03-01.tar.gz", "./scripts/bootstrap"]


@dataclass
class Planted:
    """Query words of each S9 class, chosen from the generated corpus."""

    common: list[str] = field(default_factory=list)
    mid: list[str] = field(default_factory=list)
    rare: list[str] = field(default_factory=list)
    rare_old: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)
    substrings: list[str] = field(default_factory=list)
    cjk: list[str] = field(default_factory=list)


class Corpus:
    """Message bodies: ``body(i, n)`` for message i of n (deterministic for a seed)."""

    def __init__(self, seed: int = 11, vocabulary: int = 30_000) -> None:
        self.rng = random.Random(seed)
        words: list[str] = []
        for lang in ("en", "de", "fr", "es", "ru", "el", "ar", "he"):
            words += [w for w in _COMMON[lang].split() if w not in words]
        langs = list(_SYLLABLES)
        seen = set(words)
        while len(words) < vocabulary:
            syl = _SYLLABLES[self.rng.choice(langs)]
            w = "".join(self.rng.choice(syl) for _ in range(self.rng.randint(2, 4)))
            if w not in seen:
                seen.add(w)
                words.append(w)
        self.words = words
        # Zipf (s = 1): the weight of rank r is 1/r; cumulative for bisect.
        self._cum = list(itertools.accumulate(1.0 / (r + 1) for r in range(len(words))))
        self.planted = Planted(
            common=["the", "to", "and", "is", "server"],
            mid=[words[r] for r in range(400, 420)],
            rare=[words[r] for r in range(20_000, 20_020)],
            rare_old=[f"zqx{k}old" for k in range(20)],
            phrases=["disk full", "restart the cluster", "backup failed again", "please review"],
            substrings=["prod.int", "1307.pro", "nginx.con", "sync_wor", "ckupHandl"],
            cjk=["上海", "会議", "备份", "再起"],
        )

    def _word(self) -> str:
        x = self.rng.random() * self._cum[-1]
        return self.words[bisect.bisect_left(self._cum, x)]

    def body(self, i: int, n: int) -> str:
        """Message ``i`` (0 = oldest) of ``n``."""
        r = self.rng
        parts = [self._word() for _ in range(r.randint(3, 30))]
        roll = r.random()
        if roll < 0.05:  # code tokens, URLs and paths, as in ops chatter
            k = r.randint(1, 9999)
            parts.insert(r.randrange(len(parts) + 1), r.choice([
                f"deploy-{k}.prod.{r.choice(_TLDS)}", f"PLT-{k}", f"foo.bar.baz_{k}()",
                f"https://git.example.org/proj/issues/{k}", r.choice(_PATHS), f"sync_worker_{k % 50}",
                f"getBackupHandler{k % 30}", f"user{k}@example.com", f"10.0.{k % 256}.{k // 256}",
            ]))
        elif roll < 0.07:
            parts.insert(r.randrange(len(parts) + 1), r.choice(_CJK))
        elif roll < 0.10:
            parts.append(r.choice(_EMOJI))
        elif roll < 0.11:
            parts.insert(r.randrange(len(parts) + 1), r.choice(self.planted.phrases))
        if i < n // 10 and i % max(1, n // 400) == 0:  # 400 messages in the oldest 10 %
            parts.append(self.planted.rare_old[(i // max(1, n // 400)) % len(self.planted.rare_old)])
        if r.random() < 0.15:
            parts[0] = parts[0].capitalize()
        return " ".join(parts)
