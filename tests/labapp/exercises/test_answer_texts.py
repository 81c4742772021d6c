"""The texts of a wrong answer's diagnoses as students read them, in English and Simplified Chinese,
and a Chinese translation of every check message and packet-walk step."""

from __future__ import annotations

import string

import pytest
from django.utils import translation

from labapp.exercises.results import result_for_people
from tests.topology.checks.test_checks import make_snapshot
from topology.checks import MESSAGES, check
from topology.grading import judge_answer
from topology.trace import MESSAGES as STEP_MESSAGES

QUESTION = {"prompt": {"en": "?"}, "expect": {"host_port": {"container": "web", "port": 80}}}


def shown(given: str, language: str) -> dict:
    with translation.override(language):
        return result_for_people(judge_answer(QUESTION, given, make_snapshot()))


def test_a_mixed_address_and_port_is_explained_in_english_and_chinese():
    en = shown("172.17.0.2:8080", "en")
    assert en["ok"] is False and en["message"] == "172.17.0.2:8080 is not right."
    assert en["diagnoses"][0].startswith("172.17.0.2:8080 pairs the address of container web with port 8080")
    zh = shown("172.17.0.2:8080", "zh-hans")
    assert zh["message"] == "172.17.0.2:8080 不正确。"
    assert zh["diagnoses"] == [
        "172.17.0.2:8080 把容器 web 的地址和 Docker 主机发布的端口 8080 配在了一起："
        "从外部访问，要用主机的地址加端口 8080；在容器自己的地址上，服务监听的是端口 80。"
    ]


def fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TEMPLATES = {
    **{("checks", c): t for c, t in MESSAGES.items()},
    **{("trace", c): t for c, t in STEP_MESSAGES.items()},
}


@pytest.mark.parametrize(("catalogue", "code"), sorted(TEMPLATES))
def test_every_check_message_and_walk_step_has_a_chinese_translation_with_the_same_fields(catalogue, code):
    template = TEMPLATES[(catalogue, code)]
    with translation.override("zh-hans"):
        zh = translation.gettext(template)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), (code, zh)
    assert fields(zh) == fields(template)


def test_a_step_code_is_never_a_check_code():
    """A check's parameter may be a step's message: one code names one template."""
    assert not set(MESSAGES) & set(STEP_MESSAGES)


def test_a_diagnosis_names_what_it_found_in_chinese():
    """`wrong_namespace`'s `{what}` is a part of the message (`part.address`), translated with it."""
    with translation.override("zh-hans"):
        shown = result_for_people(
            check("address", {"ns": "host", "address": "172.17.0.2/16"}, make_snapshot())
        )
    assert shown["diagnoses"] == ["地址 172.17.0.2/16 存在于 web 中，而不是 host 中。"]


def test_why_the_right_answer_cannot_be_read_in_english_and_chinese():
    question = {"prompt": {"en": "?"}, "expect": {"container_ip": "db"}}
    assert [shown_for(question, language) for language in ("en", "zh-hans")] == [
        "The right answer cannot be read from your lab now: there is no container db.",
        "现在无法从你的实验中读出正确答案：没有名为 db 的容器。",
    ]


def shown_for(question: dict, language: str) -> str:
    with translation.override(language):
        return result_for_people(judge_answer(question, "172.17.0.9", make_snapshot()))["message"]
