"""hyoka — 地域福祉計画の進捗評価を支援するツール.

The package is laid out along the annual cycle: ``plan`` (the fixed structure), ``scale`` and ``years``
(the rules), ``forms`` (survey forms out), ``collect`` (returns in), ``store`` (what was accepted),
``report`` (the committee documents) and ``diff`` (how ratings moved).
"""

__version__ = "0.1.0"
