from chat.text import without_nul


def test_without_nul_cleans_nested_values_and_keeps_others():
    value = {"a\x00": ["x\x00y", {"k": "\x00"}], "n": 1, "none": None}
    assert without_nul(value) == {"a": ["xy", {"k": ""}], "n": 1, "none": None}
    text = "no nul here"
    assert without_nul(text) is text
