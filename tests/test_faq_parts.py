"""The FAQ with questions in several parts, questions that only name a product, and the review time.

A question that asks two things gets both answers, each under its topic's question, in the order
asked; a single question, even a long one with commas and "and", stays one. A product's name alone
("my ECS server keeps rebooting") does not make a question about filing: the bot says it is not sure.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from knowledge.faq import faq_index, split_parts
from storage.models import FaqFeedback
from tests.harness import BotHarness, Call

USER = 4242


def _answers(calls: list[Call]) -> list[Call]:
    return [c for c in calls if c.method == "sendMessage" and c.text.startswith("💡")]


def _feedback_topics(call: Call) -> list[str]:
    return [b["callback_data"] for b in call.buttons if b["callback_data"].startswith("q:fb:")]


# --- the parts of a question ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "parts"),
    [
        ("how long does the review take? and is there a deadline for the SMS", 2),
        ("what is a service code and how many do i get per server", 2),
        ("website is behind SLB, which IP do I give? also can I use ACK to apply", 2),
        ("do I need special approval for a medical site, and what documents do I need?", 2),
        ("审核要多久？还有ECS快到期了影响吗", 2),
        ("个人备案需要准备啥材料啊，还有域名要实名认证吗", 2),
        ("备案服务号是啥，一台服务器能申请几个", 2),
        ("审核要多久？另外短信核验有时间限制吗", 2),
        # single questions stay whole
        ("I only use OSS with a custom domain and alibaba CDN, do I need to file through alibaba cloud", 1),
        ("origin is on alibaba cloud and we use cdn, someone said the domain can get blocked", 1),
        ("got approved!! what now, where do I put the ICP number on my website", 1),  # a statement, then its question
        ("already have an ICP number from tencent cloud, moving to aliyun now. what do i have to do", 1),
        ("what exactly is a service code and what is it for", 1),  # "what is it for" asks nothing new
        ("按量付费的ECS可以备案吗，还是必须包年包月", 1),  # an alternative, not a second question
        ("服务器在香港的话，还用备案吗", 1),
        ("我有ECS，还有轻量服务器，用哪个备案", 1),  # 还有 = "I also have": a statement
        ("ACK以及ACS可以备案吗", 1),
        ("I paid for two months and then extended by one month, do I reach the minimum?", 1),
    ],
)
def test_a_question_is_split_only_where_it_asks_again(question: str, parts: int) -> None:
    assert len(faq_index().parts(question)) == parts, faq_index().parts(question)


def test_the_joins_themselves_are_not_asked() -> None:
    assert split_parts("What is a service code? Also, how many do I get") == [
        "what is a service code",
        "how many do i get",
    ]
    assert split_parts("审核要多久？还有ECS快到期了影响吗") == ["审核要多久", "ecs快到期了影响吗"]


@pytest.mark.parametrize(
    ("question", "topics"),
    [
        ("do I need special approval for a medical site, and what documents do I need?", ["pre-approval", "documents"]),
        ("审核要多久？还有ECS快到期了影响吗", ["total-time", "three-months"]),
        ("what is a service code and how many do i get per server", ["what-service-code", "free-codes"]),
        (
            "how long does icp review usually take from start to finish? and what's that sms verification thing",
            ["total-time", "sms-verification"],
        ),
        ("SLB能备案吗，ACK呢", ["slb", "containers"]),  # the second part borrows "filing" from the first
        ("网站要做收费会员，光有ICP备案够吗？还有APP的备案号放哪儿", ["icp-license", "app-number"]),
        ("what exactly is a service code and what is it for", ["what-service-code"]),
        ("服务码是什么？还有，服务码是做什么用的", ["what-service-code"]),  # the same topic twice: one answer
        ("do I need icp for hong kong? and how much does the filing cost", ["outside-mainland", "cost"]),
    ],
)
def test_each_part_is_answered_in_the_order_asked(question: str, topics: list[str]) -> None:
    result = faq_index().ask(question)
    assert [r.entry.id for r in (result, *result.more) if r.entry] == topics
    assert result.question == question


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("how long does the review take? also my ECS server keeps rebooting, why", "total-time"),
        ("审核要多久？另外服务器被黑了怎么办", "total-time"),
        ("do I need icp for hong kong? and how much does an ECS cost", "outside-mainland"),
        ("what is a service code? btw what's the weather in beijing", "what-service-code"),
    ],
)
def test_a_part_off_the_topic_is_not_answered_for_its_neighbours_sake(question: str, topic: str) -> None:
    result = faq_index().ask(question)
    assert result.entry is not None and result.entry.id == topic and result.more == ()


def test_the_json_answer_lists_the_further_parts() -> None:
    data = faq_index().ask("审核要多久？另外短信核验有时间限制吗").as_dict()
    assert data["topic"] == "total-time"
    assert [m["topic"] for m in data["more"]] == ["sms-verification"]  # type: ignore[attr-defined]
    assert "24 小时" in data["more"][0]["answer"]  # type: ignore[index]
    assert json.dumps(data, ensure_ascii=False)


# --- a product's name alone is not a question about filing ----------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "my ECS server keeps rebooting",
        "cheapest cloud server price",
        "服务器被黑了怎么办",
        "电动车备案",
        "how do I reset my ECS password",
        "阿里云服务器多少钱一年",
        "which ECS instance type is best for MySQL",
        "CDN和OSS哪个便宜",
        "how do I file my taxes",
        "I want to file my taxes",
        "how do i renew my driver's license online",
        # a word alone, even one whose entry answers it when asked ("需要什么材料", "do I need to know Chinese")
        "中文",
        "english",
        "材料",
    ],
)
def test_a_product_or_a_shared_word_alone_is_declined(question: str) -> None:
    result = faq_index().ask(question)
    assert result.entry is None, (question, result.entry.id if result.entry else None, result.score)


@pytest.mark.parametrize(
    ("question", "topic"),
    [
        ("my ECS is pay as you go, can i still file with it??", "pay-as-you-go"),
        ("my instance fails the requirements, how can I fix it", "not-eligible"),  # two concepts make one
        ("我的实例不符合要求，该怎么办", "not-eligible"),
        ("先买了两个月又续费一个月，够三个月了吗", "three-months"),
        ("源站在阿里云，用了 CDN，听说域名会被阻断", "cdn-origin"),
        ("只用了阿里云CDN，源站不在阿里云，要备案吗", "cdn"),  # the origin is not on Alibaba Cloud
    ],
)
def test_a_product_with_a_filing_matter_is_answered(question: str, topic: str) -> None:
    result = faq_index().ask(question)
    assert result.entry is not None and result.entry.id == topic, (result.entry, result.score)


def test_synonyms_no_entry_uses_count_through_their_concept() -> None:
    index = faq_index()
    assert index.ask("how many complimentary codes come with one server").entry.id == "free-codes"  # type: ignore[union-attr]
    assert index.ask("备案服务号是啥").entry.id == "what-service-code"  # type: ignore[union-attr]
    assert index.ask("do I need beian for a server in hong kong").entry.id == "outside-mainland"  # type: ignore[union-attr]


# --- the review time --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "question",
    [
        "how long does the review take",
        "审核要多久",
        "审核需要几天",
        "how long does the approval take from start to finish",
        "how long does icp review usually take from start to finish?",
        "备案大概要多久能下来啊",
        "how long is the review",
        "备案审核要多长时间",
    ],
)
def test_the_review_time_is_answered_with_both_reviews(question: str) -> None:
    result = faq_index().ask(question)
    assert result.entry is not None and result.entry.id == "total-time"
    answer = result.entry.answer(result.language)
    assert ("1–2 business days" in answer and "1 to 20 days" in answer) or (
        "1–2 个工作日" in answer and "1 到 20 天" in answer
    )
    assert result.entry.public and "Alibaba Cloud help" in result.entry.public  # the administration's time: sourced


# --- through the Application ------------------------------------------------------------------------
async def test_a_question_in_two_parts_gets_two_answers(bot: BotHarness) -> None:
    calls = await bot.send(USER, "do I need special approval for a medical site, and what documents do I need?")
    first, second = _answers(calls)
    assert first.text.startswith("💡 Which websites need pre-approval?\n")
    assert "medical devices" in first.text
    assert second.text.startswith("💡 What documents do I need for ICP filing?\n")
    assert "ID card" in second.text
    assert _feedback_topics(first) == ["q:fb:pre-approval.t:1", "q:fb:pre-approval.t:0"]
    assert _feedback_topics(second) == ["q:fb:documents.t:1", "q:fb:documents.t:0"]
    # the way back comes once, under the last answer
    assert "Menu" not in [b["text"] for b in first.buttons]
    assert "Menu" in [b["text"] for b in second.buttons]


async def test_feedback_on_one_part_keeps_its_title_and_records_its_topic(bot: BotHarness) -> None:
    calls = await bot.send(USER, "审核要多久？还有ECS快到期了影响吗", lang="zh")
    first, second = _answers(calls)
    assert first.text.startswith("💡 备案总共要多久？\n") and "1–2 个工作日" in first.text
    assert second.text.startswith("💡 3 个月的购买时长怎么计算？\n") and "剩余时长" in second.text
    calls = await bot.press(USER, "q:fb:three-months.t:0", lang="zh", message_id=second.message_id)
    [edited] = [c for c in calls if c.method == "editMessageText"]
    assert edited.text == second.text  # the answer stays under its title
    assert "🙋 联系人工客服" in [b["text"] for b in edited.buttons]
    rows = await bot.app_service_db_run(lambda c: c.execute(select(FaqFeedback.c.topic, FaqFeedback.c.helpful)).all())
    assert [tuple(r) for r in rows] == [("three-months", False)]


async def test_a_single_question_is_answered_as_before(bot: BotHarness) -> None:
    calls = await bot.send(USER, "how long does the review take")
    [answer] = _answers(calls)
    assert answer.text.startswith("💡 There are two reviews.")
    assert _feedback_topics(answer) == ["q:fb:total-time:1", "q:fb:total-time:0"]


async def test_two_parts_inside_a_dialog_then_continue(bot: BotHarness) -> None:
    await bot.send(USER, "/check")
    await bot.tap(USER, "Chinese mainland")
    calls = await bot.send(USER, "how long does the review take? also, is there a deadline for the SMS verification?")
    first, second = _answers(calls)
    assert "1–2 business days" in first.text and "24 hours" in second.text
    assert "Continue where I was" not in [b["text"] for b in first.buttons]
    calls = await bot.tap(USER, "Continue where I was")
    assert "Who provides the server?" in calls[-1].text


async def test_a_product_name_alone_gets_the_polite_miss(bot: BotHarness) -> None:
    calls = await bot.send(USER, "my ECS server keeps rebooting by itself every night, how do i find out why")
    reply = calls[-1]
    assert "not sure" in reply.text and not _answers(calls)
    assert "🙋 Talk to a person" in [b["text"] for b in reply.buttons]
    calls = await bot.send(USER, "服务器被黑了怎么办，急", lang="zh")
    assert "这个问题我没有把握回答正确。" in calls[-1].text and not _answers(calls)
