"""``hyoka report``: the evaluation table (資料1), the agenda (次第), the materials list and the pack."""
