"""The plan document: English and Chinese side by side, with the font embedded so that Chinese
renders without any font on the reader's machine. Sent in the chat from the plan of /ready and
/myfiling (made when sent, not inside the turn), and written by `python -m bot plan --out`.
The text is read back from the PDF (pdfium) and checked in both languages."""

from __future__ import annotations

import asyncio
import itertools
import re
import warnings
from datetime import date
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from bot.cli import main
from dialogs import plan_document
from dialogs.plan_document import PlanFacts, pdf
from dialogs.screens import Document, Reply
from knowledge.readiness import CONTENT, Readiness, plan
from knowledge.statements import statement
from knowledge.texts import t
from storage import outbox
from tests.harness import BotHarness
from tests.test_readiness_chat import ALL_FINE, USER, answer, eligible_ecs

ECS = {"location": "mainland", "provider": "alibaba", "product": "ecs", "billing": "subscription", "months": 6}
SERVER = {**ECS, "bandwidth": "yes"}


def text_of(data: bytes) -> str:
    doc = pdfium.PdfDocument(data)
    return "".join(doc[i].get_textpage().get_text_range() for i in range(len(doc)))


def squeezed(text: str) -> str:
    """Without spaces and line breaks: the document wraps lines where the chat does not."""
    return re.sub(r"\s+", "", text)


def contains(document: str, text: str) -> bool:
    return squeezed(re.sub(r"^[^\w(（]+", "", text)) in squeezed(document)


def test_both_languages_of_every_blocker_fix_and_obligation_are_in_the_document() -> None:
    facts = Readiness(
        account_site="international",
        identity_verified=False,
        entity="organization",
        account_has_other_entity=True,
        reads_chinese=False,
        domain_ready=False,
        content="news",
        pre_approval=False,
        commercial=True,
        server_account="other-personal",
    )
    result = plan(SERVER, facts)
    text = text_of(pdf(PlanFacts(SERVER, facts, (False, False, False), date(2026, 11, 30))))
    assert len(result.blockers) == 7
    for lang in ("en", "zh"):
        data = result.as_dict(lang)
        for item in data["blockers"]:
            assert contains(text, item["text"]) and contains(text, item["fix"]), item
        for item in data["obligations"]:
            assert contains(text, item["text"]), item
        assert contains(text, t(lang, "filingtype.result", name=t(lang, "filingtype.name.first_filing")))
        for k in range(1, 6):  # the filing steps' names, side by side
            assert contains(text, t(lang, f"steps.name.{k}"))
        assert contains(text, statement("steps.3").text(lang))
    assert "2026-11-30" in text


def test_the_font_is_embedded_and_has_every_glyph_the_document_uses(caplog: pytest.LogCaptureFixture) -> None:
    facts = Readiness(account_site="china", content="medical-devices", pre_approval=False, commercial=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # fpdf2 warns of a character its font lacks
        data = pdf(PlanFacts(SERVER, facts, None, date(2026, 11, 30)))
    assert not [r for r in caplog.records if "glyph" in r.getMessage().lower()]
    assert b"/FontFile" in data and b"NotoSansCJK" in data  # embedded, not left to the reader


def test_a_rendered_page_has_ink_in_the_chinese_column() -> None:
    """The Chinese column is drawn from the embedded font (this machine has no CJK font)."""
    data = pdf(PlanFacts(SERVER, Readiness(account_site="international"), None, date(2026, 11, 30)))
    page = pdfium.PdfDocument(data)[0]
    image = page.render(scale=1).to_pil().convert("L")
    width, height = image.size
    right = image.crop((width // 2 + 10, height // 5, width - 40, height // 2))
    dark = sum(right.histogram()[:128])
    assert dark > 2000, dark


@pytest.mark.parametrize(
    ("site", "content", "owner", "filing"),
    list(
        itertools.product(
            (None, "china", "international"),
            (None, *CONTENT),
            (None, "same", "other-enterprise", "other-personal"),
            (None, (True, True, False), (False, True, True)),
        )
    )[::7],
)
def test_the_two_languages_give_the_same_rows(
    site: str | None, content: str | None, owner: str | None, filing: tuple[bool, bool, bool] | None
) -> None:
    facts = Readiness(account_site=site, content=content, server_account=owner)  # type: ignore[arg-type]
    en, zh = (plan_document._column(PlanFacts(SERVER, facts, filing, date(2026, 1, 1)), lang) for lang in ("en", "zh"))
    assert [style for style, _ in en] == [style for style, _ in zh]


def test_chinese_lines_break_between_characters_not_inside_latin_words() -> None:
    from fpdf import FPDF

    doc = FPDF()
    doc.add_font("cjk", fname=str(plan_document.font_path()))
    doc.set_font("cjk", size=9.5)
    text = "请使用完成实名认证的阿里云中国站（aliyun.com）账号办理备案，并在备案前办理该领域的前置审批。"
    lines = plan_document._wrap(doc, text, 40).split("\n")
    assert len(lines) > 2 and "".join(lines) == text
    # within the width, but for closing punctuation kept at the end of its line
    assert all(doc.get_string_width(line.rstrip("，。）")) <= 40 for line in lines)
    assert not any(line.startswith(("，", "。", "）")) or line.endswith("（") for line in lines)
    assert any("（aliyun.com）" in line for line in lines)  # the domain is not broken


def test_documents_written_before_kinds_existed_are_still_sent_as_text() -> None:
    encoded = outbox.encode([Reply("cap", document=Document("a.ics", "text", "BEGIN"))])
    assert outbox.decode(encoded)[0].document == Document("a.ics", "text", "BEGIN")
    old = {"replies": [{"text": "cap", "buttons": [], "edit": False, "screen": "", "document": ["a.ics", "BEGIN"]}]}
    assert outbox.decode(old)[0].document == Document("a.ics", "text", "BEGIN")


async def test_the_plan_document_is_sent_in_the_chat_in_both_languages(bot: BotHarness) -> None:
    await eligible_ecs(bot)
    await bot.tap(USER, "Can I file? What could stop me »")
    calls = await answer(bot, ["International site", *ALL_FINE[1:]])
    assert "✅" not in calls[-1].text
    calls = await bot.tap(USER, "📄 My plan as a document (English + 中文)")
    [sent] = [c for c in calls if c.method == "sendDocument"]
    name, content = sent.params["_files"]["document"]
    assert name == "icp-filing-plan.pdf" and content.startswith(b"%PDF")
    assert "share it with whoever works on the filing with you" in sent.params["caption"]
    assert [b["text"] for b in sent.buttons] == ["Can I file? What could stop me »", "Menu"]  # a way on from it
    text = text_of(content)
    assert contains(text, "International Website accounts cannot file")
    assert contains(text, "国际站账号不能办理备案")
    # /myfiling offers the same document
    await bot.send(USER, "/myfiling")
    labels = [b["text"] for b in bot.last_screen(USER).buttons]
    assert "📄 My plan as a document (English + 中文)" in labels


async def test_before_the_questions_the_button_says_what_to_do_first(bot: BotHarness) -> None:
    from dialogs import actions

    calls = await bot.press(USER, actions.encode(actions.PlanDocument()), lang="zh", message_id=1)
    assert not [c for c in calls if c.method == "sendDocument"]
    assert "请先回答这些问题" in calls[-1].text


async def test_the_command_line_writes_the_same_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.pdf"
    flags = ["--location", "mainland", "--provider", "alibaba", "--product", "ecs", "--billing", "subscription"]
    flags += ["--months", "6", "--public-bandwidth", "yes", "--reads-chinese", "no", "--lang", "zh"]
    assert await asyncio.to_thread(main, ["plan", *flags, "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    text = text_of(out.read_bytes())
    for lang in ("en", "zh"):
        assert contains(text, statement("ready.chinese").text(lang))
    nowhere = str(tmp_path / "missing" / "plan.pdf")
    assert await asyncio.to_thread(main, ["plan", *flags, "--out", nowhere]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert "cannot write" in line
