"""The support desk: ticket cards in the staff group, messages relayed both ways, claim and close.

Every relayed message is first a `relays` row (written in the sender's transaction), then a
copyMessage, then marked sent: a copy that fails stays pending and the retry job delivers it
later, so nothing is dropped. A ticket whose card could not be posted (no staff group, or the
group unreachable) waits the same way.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from telegram import Bot, ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update, User
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.records import PendingRecords
from bot.render import split_text
from bot.sender import ReplySender
from bot.service import ConversationService
from bot.user_locks import UserLocks
from dialogs import actions, support_card
from dialogs.session import Event, SupportClaimed, SupportClosed
from knowledge.domain import Language
from knowledge.texts import t
from storage import support as repo
from storage.turns import Delivery, TurnResult

log = logging.getLogger(__name__)


def now() -> datetime:
    return datetime.now(UTC)


def display_name(user: User | None) -> str:
    if user is None:
        return "unknown"
    name = " ".join(p for p in (user.first_name, user.last_name) if p)
    return f"{name} (@{user.username})" if user.username else name or f"user {user.id}"


class SupportDesk:
    def __init__(
        self,
        service: ConversationService,
        sender: ReplySender,
        chat_id: int | None,
        staff: frozenset[int],
        language: Language = "en",
    ) -> None:
        self.service = service
        self.sender = sender
        self.db = service.db
        self.chat_id = chat_id
        self.staff = staff
        self.lang: Language = language
        self._forum: bool | None = None  # learnt from getChat on first use
        self.locks = UserLocks()  # the turn pipeline's too: a close is a turn of the user's
        self.unrecorded = PendingRecords(self.db, "relay")

    # --- the staff group --------------------------------------------------------------------------
    async def is_forum(self, bot: Bot) -> bool:
        if self._forum is None:
            assert self.chat_id is not None
            chat = await bot.get_chat(self.chat_id)
            self._forum = bool(chat.is_forum)
        return self._forum

    async def setup_problems(self, bot: Bot) -> list[str]:
        """What keeps the staff group from working, one line each (checked at start): the bot must
        see the group, be an administrator (to read staff messages that are not replies to it,
        unless group privacy is off), and in a forum group be allowed to manage topics."""
        if self.chat_id is None:
            return []
        try:
            chat = await bot.get_chat(self.chat_id)
            member = await bot.get_chat_member(self.chat_id, bot.id)
        except TelegramError as exc:
            return [f"SUPPORT_CHAT_ID {self.chat_id}: the bot cannot see the staff group ({exc}); add the bot to it"]
        self._forum = bool(chat.is_forum)
        problems = []
        admin = member.status in (ChatMember.ADMINISTRATOR, ChatMember.OWNER)
        if not admin and not bot.can_read_all_group_messages:
            problems.append(
                "staff group: the bot is not an administrator and group privacy mode is on, so it sees only"
                " commands and replies to it; make it an administrator (or turn privacy off with @BotFather)"
            )
        if self._forum and not (member.status == ChatMember.OWNER or getattr(member, "can_manage_topics", False)):
            problems.append(
                "staff group: it is a forum, and the bot may not manage topics, so no topic can be opened per"
                " ticket; make it an administrator with the right to manage topics"
            )
        return problems

    def card_buttons(self, ticket_id: int) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t(self.lang, "staff.btn.claim"), callback_data=actions.encode(actions.StaffClaim(ticket_id))
                    ),
                    InlineKeyboardButton(
                        t(self.lang, "staff.btn.close"), callback_data=actions.encode(actions.StaffClose(ticket_id))
                    ),
                ]
            ]
        )

    async def post_card(self, bot: Bot, ticket_id: int, tell_user: bool = True) -> bool:
        """Post the ticket card (in its own forum topic where the group is a forum)."""
        ticket = await self.db.run(repo.get_ticket, ticket_id)
        if ticket is None or ticket.card_message_id is not None:
            return True
        if self.chat_id is None:  # the user was told when they asked (handoff.no_staff)
            return False
        try:
            thread = ticket.topic_id
            if await self.is_forum(bot) and thread is None:
                topic = await bot.create_forum_topic(self.chat_id, f"#{ticket.id} {ticket.user_name}"[:128])
                thread = topic.message_thread_id
                await self.db.run(repo.record_topic, ticket.id, thread)
            card = await self.db.run(repo.card_data, ticket.id)
            if card is None:  # the user asked to be forgotten meanwhile: nothing to post
                return True
            pieces = split_text(support_card.render(card, self.lang))
            for piece in pieces[:-1]:
                await bot.send_message(self.chat_id, piece, message_thread_id=thread)
            message = await bot.send_message(
                self.chat_id, pieces[-1], message_thread_id=thread, reply_markup=self.card_buttons(ticket.id)
            )
            await self.db.run(repo.record_card, ticket.id, message.message_id, thread)
        except TelegramError as exc:
            log.warning("ticket %s: card not posted (%s); will retry", ticket.id, exc)
            await self.db.run(repo.card_failed, ticket.id, now())
            if tell_user:
                await self._tell_user(bot, ticket.user_id, "handoff.unreachable")
            return False
        # Messages the user sent before the card was there can go now.
        for relay_id in await self.db.run(repo.due_relays, now()):
            await self.deliver(bot, relay_id, notify=False)
        return True

    async def _tell_user(self, bot: Bot, user_id: int, key: str) -> None:
        lang = await self.service.language_of(user_id, None)
        try:
            await bot.send_message(user_id, t(lang, key))
        except Forbidden:
            await self.sender.blocked(user_id)
        except TelegramError as exc:
            log.info("could not tell user %s (%s)", user_id, exc)

    async def _tell_staff(self, bot: Bot, ticket: repo.TicketRow, text: str, reply_to: int | None = None) -> None:
        if self.chat_id is None:
            return
        try:
            await bot.send_message(
                self.chat_id,
                text,
                message_thread_id=ticket.topic_id,
                reply_parameters=ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None,
            )
        except TelegramError as exc:
            log.warning("could not post to the staff group (%s)", exc)

    # --- relaying -------------------------------------------------------------------------------
    async def deliver(self, bot: Bot, relay_id: int, notify: bool = True) -> bool:
        """Copy one queued message to the other side; on failure it stays queued (or the sender is told)."""
        relay = await self.db.run(repo.claim_relay, relay_id, now())
        if relay is None:  # delivered already, or another process has it
            return False
        ticket = await self.db.run(repo.get_ticket, relay.ticket_id)
        assert ticket is not None
        try:
            if relay.direction == "in":
                if self.chat_id is None or ticket.card_message_id is None:
                    raise TelegramError("the ticket's card is not in the staff group yet")
                target = self.chat_id
                anchor = (
                    None
                    if ticket.topic_id
                    else ReplyParameters(ticket.card_message_id, allow_sending_without_reply=True)
                )
                copied = await bot.copy_message(
                    target,
                    relay.source_chat_id,
                    relay.source_message_id,
                    message_thread_id=ticket.topic_id,
                    reply_parameters=anchor,
                )
            else:
                target = ticket.user_id
                copied = await bot.copy_message(target, relay.source_chat_id, relay.source_message_id)
        except Forbidden as exc:  # the user blocked the bot: retrying will not help
            await self.db.run(repo.relay_failed, relay.id, repo.MAX_RELAY_ATTEMPTS, now())
            if relay.direction == "out":
                await self.sender.blocked(ticket.user_id)
                await self._tell_staff(
                    bot, ticket, t(self.lang, "staff.delivery_failed", reason=str(exc)), relay.source_message_id
                )
            return False
        except TelegramError as exc:
            gave_up = await self.db.run(repo.relay_failed, relay.id, relay.attempts, now())
            log.warning("relay %s failed (attempt %s): %s", relay.id, relay.attempts, exc)
            if relay.direction == "in" and (gave_up or (notify and relay.attempts == 1)):
                await self._tell_user(
                    bot, ticket.user_id, "handoff.relay_failed" if gave_up else "handoff.relay_delayed"
                )
            elif relay.direction == "out" and (gave_up or notify):
                await self._tell_staff(
                    bot, ticket, t(self.lang, "staff.delivery_failed", reason=str(exc)), relay.source_message_id
                )
            return False
        await self.unrecorded.record(relay.id, repo.relay_sent, relay.id, target, copied.message_id, now())
        return True

    async def after_turn(self, bot: Bot, outcome_relays: list[int], handoff: int | None, ended: int | None) -> None:
        if handoff is not None:
            await self.post_card(bot, handoff)
        for relay_id in outcome_relays:
            await self.deliver(bot, relay_id)
        if ended is not None:
            ticket = await self.db.run(repo.get_ticket, ended)
            if ticket is not None and ticket.card_message_id is not None:
                await self._tell_staff(bot, ticket, t(self.lang, "staff.user_ended", id=ticket.id))

    async def retry(self, bot: Bot) -> None:
        """Record what was copied but not recorded, post cards that could not be posted, then
        deliver queued messages."""
        await self.unrecorded.flush()
        for ticket in await self.db.run(repo.tickets_without_card, now()):
            await self.post_card(bot, ticket.id, tell_user=False)
        for relay_id in await self.db.run(repo.due_relays, now()):
            await self.deliver(bot, relay_id, notify=False)

    async def retry_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        try:
            await self.retry(context.bot)
        except Exception:
            log.exception("support retry failed; the next run tries again")

    # --- staff updates ------------------------------------------------------------------------------
    def is_staff(self, user: User | None) -> bool:
        return user is not None and user.id in self.staff

    async def ticket_in_context(self, message: Message) -> repo.TicketRow | None:
        """The ticket of the topic the message is in, or of the ticket message it replies to."""
        if message.is_topic_message and message.message_thread_id:
            ticket = await self.db.run(repo.ticket_by_topic, message.message_thread_id)
            if ticket is not None:
                return ticket
        if message.reply_to_message is not None:
            return await self.db.run(repo.ticket_by_message, message.chat_id, message.reply_to_message.message_id)
        return None

    async def _addressed(
        self, message: Message, command: str, args: list[str]
    ) -> tuple[repo.TicketRow | None, list[str], str | None]:
        """The ticket a staff command is about, the words after its number, and what to tell staff
        instead when that is unclear. Where it is typed (a ticket's topic, a reply to a ticket
        message) names the ticket; a leading number names one only outside such a place, or when it
        is that ticket's own: `/close 1 document missing` in ticket #2's topic is not a close of #1."""
        here = await self.ticket_in_context(message)
        named = actions.number(args[0].lstrip("#")) if args else None
        if here is not None:
            if named is None:
                return here, args, None
            if named == here.id:
                return here, args[1:], None
            return None, args, t(self.lang, "staff.other_ticket", here=here.id, n=named, command=command)
        if named is None:
            return None, args, t(self.lang, "staff.no_ticket")
        ticket = await self.db.run(repo.get_ticket, named)
        return ticket, args[1:], None if ticket is not None else t(self.lang, "staff.no_ticket")

    async def on_staff_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Whatever staff write in a ticket's topic, or as a reply to a ticket message, goes to the user."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or user.is_bot:
            return
        ticket = await self.ticket_in_context(message)
        if ticket is None:  # staff talking among themselves
            return
        if not self.is_staff(user):
            await message.reply_text(t(self.lang, "staff.not_staff"))
            return
        if ticket.status in repo.DONE:
            await message.reply_text(t(self.lang, "staff.already_closed", id=ticket.id))
            return
        if ticket.status == repo.OPEN:  # whoever answers first claims it: a kept request is handed over
            await self._users_turn(context.bot, ticket, SupportClaimed(ticket.id, user.id), None)
        relay_id = await self.db.run(
            repo.queue_relay_out, ticket, message.chat_id, message.message_id, now(), update.update_id
        )
        if relay_id is not None:  # else the update came again: its copy is queued, or sent, already
            await self.deliver(context.bot, relay_id)

    async def on_staff_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or message.text is None:
            return
        name, *args = message.text.split()
        name, _, addressee = name.lstrip("/").lower().partition("@")
        if name not in ("claim", "close", "tickets", "whois"):
            return
        if addressee and addressee != (context.bot.username or "").lower():  # another bot's command
            return
        if not self.is_staff(user):
            await message.reply_text(t(self.lang, "staff.not_staff"))
            return
        assert user is not None
        if name == "tickets":
            for piece in split_text(await self.queue_text()):
                await message.reply_text(piece)
            return
        ticket, args, problem = await self._addressed(message, name, args)
        if ticket is None:
            await message.reply_text(problem or t(self.lang, "staff.no_ticket"))
            return
        if name in ("claim", "close"):
            if name == "claim":
                text = await self.claim(context.bot, ticket, user, update.update_id)
            else:
                text = await self.close(context.bot, ticket, " ".join(args) or None, update.update_id)
            if text is not None:  # None: the update came again, and was answered the first time
                await message.reply_text(text)
        else:
            card = await self.db.run(repo.card_data, ticket.id)
            if card is None:  # forgotten since it was looked up
                await message.reply_text(t(self.lang, "staff.no_ticket"))
                return
            for piece in split_text(support_card.render(card, self.lang)):
                await message.reply_text(piece)

    async def on_staff_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        if not self.is_staff(query.from_user):
            await query.answer(t(self.lang, "staff.not_staff"), show_alert=True)
            return
        action = actions.decode(query.data)
        match action:
            case actions.StaffClaim(ticket=number) | actions.StaffClose(ticket=number):
                ticket = await self.db.run(repo.get_ticket, number)
            case _:
                ticket = None
        if ticket is None:
            await query.answer(t(self.lang, "stale.gone"))
            return
        if isinstance(action, actions.StaffClaim):
            text = await self.claim(context.bot, ticket, query.from_user, update.update_id)
        else:
            text = await self.close(context.bot, ticket, None, update.update_id)
        await query.answer(text)
        if text is not None and query.message is not None:
            await context.bot.send_message(query.message.chat.id, text, message_thread_id=ticket.topic_id)

    async def claim(self, bot: Bot, ticket: repo.TicketRow, user: User, update_id: int) -> str | None:
        """What to tell staff; None if the update was applied before. Through the user's own turn,
        as a close: a request kept while nobody could answer is handed over and the user told in it."""
        if ticket.status in repo.DONE:
            return t(self.lang, "staff.already_closed", id=ticket.id)
        result = await self._users_turn(bot, ticket, SupportClaimed(ticket.id, user.id), update_id)
        if result.redelivered:
            return None
        if result.outcome.claimed is None:  # the user asked to be forgotten meanwhile
            return t(self.lang, "staff.no_ticket")
        won, holder = result.outcome.claimed
        if not won and holder is None:  # closed meanwhile, before anyone claimed it
            return t(self.lang, "staff.already_closed", id=ticket.id)
        if won:
            return t(self.lang, "staff.claimed", id=ticket.id, who=display_name(user))
        who = display_name(user) if holder == user.id else f"staff {holder}"
        return t(self.lang, "staff.already_claimed", id=ticket.id, who=who)

    async def _users_turn(self, bot: Bot, ticket: repo.TicketRow, event: Event, update_id: int | None) -> TurnResult:
        """A staff action as a turn of the ticket's user: it holds the user's lock (their earlier
        replies go out first) and records the staff update as applied in the same transaction
        (`update_id` None: the caller records it, after)."""
        async with self.locks.hold(ticket.user_id):
            result = await self.service.handle(
                ticket.user_id, None, event, delivery=Delivery(ticket.user_id, update_id), existing_user=True
            )
            await self.sender.deliver(bot, result.outgoing, result.leased_at)
        return result

    async def close(self, bot: Bot, ticket: repo.TicketRow, note: str | None, update_id: int) -> str | None:
        """Close through the user's own turn: the user is told, the bot resumes, a rating is asked;
        None if the update was applied before (only what that turn still owes is sent)."""
        result = await self._users_turn(bot, ticket, SupportClosed(ticket.id, note), update_id)
        if result.redelivered:
            return None
        if not result.outcome.replies:
            return t(self.lang, "staff.already_closed", id=ticket.id)
        if ticket.topic_id is not None and self.chat_id is not None:
            try:
                await bot.close_forum_topic(self.chat_id, ticket.topic_id)
            except BadRequest as exc:
                log.info("topic of ticket %s not closed: %s", ticket.id, exc)
        return t(self.lang, "staff.closed", id=ticket.id)

    async def queue_text(self) -> str:
        tickets = await self.db.run(repo.open_queue)
        if not tickets:
            return t(self.lang, "staff.queue_empty")
        lines = [t(self.lang, "staff.queue_title")]
        current = now()
        lines += [
            t(
                self.lang,
                "staff.queue_line",
                id=tk.id,
                name=tk.user_name,
                status=tk.status,
                wait=support_card.waiting(tk.created_at, current),
            )
            for tk in tickets
        ]
        return "\n".join(lines)
