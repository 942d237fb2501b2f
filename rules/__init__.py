"""The legal rule engine for § 15 SGB II (pure Python: no Django, nothing of ours).

Every rule cites its rule ID from shared/domain/RULES.md and its legal source.
"""
