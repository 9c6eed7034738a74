"""The channels: in-app (a notifications row), e-mail over SMTP, webhook (JSON POST, HMAC-SHA256 signed).

R57_SMTP_URL: smtp://user:pass@host:587?starttls=1&from=r57@hanoi.gov.vn (STARTTLS), smtps://…:465 (SSL),
smtp://host:25 (plain, a local relay). Each message is HTML + plain text (email.message.EmailMessage),
Vietnamese first, English as the second part. Webhook: POST of the JSON payload with
`X-R57-Signature: sha256=<hex HMAC-SHA256 of the body with R57_WEBHOOK_SECRET>`, timeout 10 s.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import html
import json
import smtplib
import ssl
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from urllib.parse import parse_qs, unquote, urlsplit

from presentation.words import t

from . import settings as S

SMTP_TIMEOUT_S = 10
WEBHOOK_TIMEOUT_S = 10


class ChannelError(RuntimeError):
    """A message that could not be sent (retried by alerts.deliver)."""


@dataclass(frozen=True)
class Message:
    """What a channel sends: one event's words in each language, a link, the machine-readable payload."""
    subject: dict[str, str]        # lang -> title
    lines: dict[str, list[str]]    # lang -> body lines
    link: str
    data: dict                     # for webhooks: rule, unit, codes, counts (no personal data)
    langs: tuple[str, ...] = ("vi", "en")

    def text(self, base: str) -> str:
        parts = []
        for i, lang in enumerate(self.langs):
            block = [self.subject[lang], "", *self.lines.get(lang, [])]
            if self.link:
                block += ["", t("alert.open", lang, link=self.link)]
            block += ["", t("alert.footer", lang, link=base + "/alerts")]
            if i == 0 and len(self.langs) > 1:
                block = [f"({t('alert.english_below', lang)})", "", *block]
            parts.append("\n".join(block))
        return "\n\n----------\n\n".join(parts) + "\n"

    def html(self, base: str) -> str:
        parts = []
        for lang in self.langs:
            items = "".join(f"<li>{html.escape(x)}</li>" for x in self.lines.get(lang, []))
            link = (f'<p><a href="{html.escape(self.link)}">{html.escape(t("alert.open", lang, link=self.link))}</a></p>'
                    if self.link else "")
            parts.append(f'<section lang="{lang}"><h2>{html.escape(self.subject[lang])}</h2>'
                         f'{f"<ul>{items}</ul>" if items else ""}{link}'
                         f'<p><small>{html.escape(t("alert.footer", lang, link=base + "/alerts"))}</small></p></section>')
        return ('<!doctype html><html lang="vi"><head><meta charset="utf-8"></head><body>'
                + "<hr>".join(parts) + "</body></html>")


def subject_line(m: Message) -> str:
    first = m.langs[0]
    return f"{t('alert.subject_prefix', first)} {m.subject[first]}"


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    ssl: bool
    starttls: bool
    username: str | None
    password: str | None
    sender: str


def parse_smtp_url(url: str) -> SmtpConfig:
    u = urlsplit(url)
    if u.scheme not in ("smtp", "smtps") or not u.hostname:
        raise ChannelError("R57_SMTP_URL: expected smtp://[user:pass@]host[:port]?starttls=1&from=ADDR or smtps://…")
    q = {k: v[-1] for k, v in parse_qs(u.query).items()}
    is_ssl = u.scheme == "smtps"
    port = u.port or (465 if is_ssl else 587 if q.get("starttls", "1") != "0" else 25)
    starttls = not is_ssl and q.get("starttls", "0" if port == 25 else "1") not in ("0", "false", "no")
    sender = q.get("from") or (f"{unquote(u.username)}" if u.username and "@" in unquote(u.username) else "r57@localhost")
    return SmtpConfig(u.hostname, port, is_ssl, starttls, unquote(u.username) if u.username else None,
                      unquote(u.password) if u.password else None, sender)


def build_email(m: Message, to: str, sender: str, base: str) -> EmailMessage:
    # lines up to 998 (RFC 5322): Python's folding of a long encoded-word subject drops the space at a fold
    msg = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    msg["Subject"] = subject_line(m)
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "r57.local")
    msg["Content-Language"] = ",".join(m.langs)
    msg.set_content(m.text(base))
    msg.add_alternative(m.html(base), subtype="html")
    return msg


def send_email(m: Message, to: str, settings=None) -> None:
    url = S.smtp_url(settings)
    if not url:
        raise ChannelError("R57_SMTP_URL is not set: e-mail alerts cannot be sent")
    cfg = parse_smtp_url(url)
    msg = build_email(m, to, cfg.sender, S.public_url(settings))
    try:
        if cfg.ssl:
            client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=SMTP_TIMEOUT_S, context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(cfg.host, cfg.port, timeout=SMTP_TIMEOUT_S)
        with client:
            if cfg.starttls:
                client.starttls(context=ssl.create_default_context())
            if cfg.username and cfg.password:
                client.login(cfg.username, cfg.password)
            client.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise ChannelError(f"SMTP {cfg.host}:{cfg.port}: {type(exc).__name__}: {exc}"[:500]) from exc


def sign(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_body(m: Message) -> bytes:
    doc = {**m.data, "title": m.subject.get("vi"), "title_en": m.subject.get("en"),
           "lines": m.lines.get("vi", []), "lines_en": m.lines.get("en", []), "link": m.link}
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str).encode("utf-8")


def send_webhook(m: Message, url: str, settings=None) -> None:
    body = webhook_body(m)
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "r57-dashboard-alerts"}
    secret = S.webhook_secret(settings)
    if secret:
        headers["X-R57-Signature"] = sign(body, secret)
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=WEBHOOK_TIMEOUT_S) as resp:  # noqa: S310 (http/https checked)
            if not 200 <= resp.status < 300:
                raise ChannelError(f"webhook answered HTTP {resp.status}")
    except ChannelError:
        raise
    except Exception as exc:  # HTTPError, URLError, timeout
        raise ChannelError(f"webhook: {type(exc).__name__}: {exc}"[:500]) from exc


def kind_of(channel: str) -> tuple[str, str]:
    """'email:a@b' -> ('email', 'a@b'); 'inapp' -> ('inapp', '')."""
    kind, _, target = channel.partition(":")
    return kind, target
