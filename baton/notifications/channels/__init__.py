"""Notification channels: deliver a `Notification` through the service a notification block names.

Each channel speaks the service's documented API with httpx (SMTP with smtplib) rather than through Apprise, which
Prefect's blocks use: the SaaS base URLs must be overridable (the `notifications_*_url` settings, for proxies and
tests), and each request must be a known, documented payload, byte for byte, that tests can assert.
"""

from __future__ import annotations

from baton.notifications.channels.base import (
    Channel,
    DeliveryFailed,
    DeliveryResult,
    Notification,
    Severity,
    UnknownChannel,
)
from baton.notifications.channels.custom_webhook import CustomWebhookChannel
from baton.notifications.channels.discord import DiscordChannel
from baton.notifications.channels.mattermost import MattermostChannel
from baton.notifications.channels.opsgenie import OpsgenieChannel
from baton.notifications.channels.pagerduty import PagerDutyChannel
from baton.notifications.channels.sendgrid import SendGridChannel
from baton.notifications.channels.slack import SlackChannel
from baton.notifications.channels.smtp import SmtpChannel
from baton.notifications.channels.teams import TeamsChannel
from baton.notifications.channels.twilio import TwilioChannel

CHANNELS: dict[str, Channel] = {
    channel.slug: channel
    for channel in (
        SlackChannel(),
        DiscordChannel(),
        MattermostChannel(),
        TeamsChannel(),
        OpsgenieChannel(),
        PagerDutyChannel(),
        SendGridChannel(),
        TwilioChannel(),
        CustomWebhookChannel(),
        SmtpChannel(),
    )
}


def channel_for(slug: str) -> Channel:
    """The channel that sends through blocks of type `slug`; UnknownChannel when that type cannot notify."""
    try:
        return CHANNELS[slug]
    except KeyError:
        raise UnknownChannel(
            f"Block type {slug!r} cannot send notifications; use one of: {', '.join(sorted(CHANNELS))}."
        ) from None


__all__ = [
    "CHANNELS",
    "Channel",
    "DeliveryFailed",
    "DeliveryResult",
    "Notification",
    "Severity",
    "UnknownChannel",
    "channel_for",
]
