"""The dev store's customer emails: the templates an order may be sent, and the record of each email "sent".

Nothing leaves the machine: an email is a row in the store's database (who, which order,
which template, when, and the pay link it carried), shown by `DevStore.sent_emails()` and
printed by the `backoffice devstore` command as it goes out.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The site title the dev store puts in its emails.
SITE_TITLE = "Dev store"

#: Every email template id the store knows (WooCommerce's `WC_Emails::$emails`); a
#: `template_id` outside this list is refused as an invalid parameter.
TEMPLATE_IDS = (
    "new_order", "cancelled_order", "customer_cancelled_order", "failed_order", "customer_failed_order",
    "customer_on_hold_order", "customer_processing_order", "customer_completed_order", "customer_refunded_order",
    "customer_invoice", "customer_note", "customer_reset_password", "customer_new_account",
)

#: The templates an order can be sent through the order actions, with title and description.
CUSTOMER_TEMPLATES = {
    "customer_completed_order": (
        "Completed order",
        "Order complete emails are sent to customers when their orders are marked completed and usually "
        "indicate that their orders have been shipped."),
    "customer_failed_order": (
        "Failed order",
        "Order failed emails are sent to customers when their orders are marked as failed."),
    "customer_invoice": (
        "Order details",
        "Order detail emails can be sent to customers containing their order information and payment links."),
    "customer_on_hold_order": (
        "Order on-hold",
        "This is an order notification sent to customers containing order details after an order is placed "
        "on-hold from Pending, Cancelled or Failed order status."),
    "customer_processing_order": (
        "Processing order",
        "This is an order notification sent to customers containing order details after payment."),
    "customer_refunded_order": (
        "Refunded order",
        "Order refunded emails are sent to customers when their orders are refunded."),
}

#: The template that belongs to an order's status, besides the order details one.
STATUS_TEMPLATES = {
    "completed": "customer_completed_order",
    "failed": "customer_failed_order",
    "on-hold": "customer_on_hold_order",
    "processing": "customer_processing_order",
    "refunded": "customer_refunded_order",
}

#: Statuses whose orders get no email through the order actions.
NO_EMAIL_STATUSES = ("auto-draft", "checkout-draft", "trash")


@dataclass(frozen=True)
class SentEmail:
    """One email the dev store sent: to whom, for which order, which template, when.

    `pay_url` is the order-pay link the email carried (an order details email for an
    order that still needs payment), or "".
    """

    id: int
    sent_at: str
    to: str
    order_id: int
    kind: str
    subject: str
    pay_url: str = ""

    def line(self) -> str:
        """One line for a console: when, to whom, what, and the pay link if any."""
        text = f"{self.sent_at} email to {self.to}: {self.subject} ({self.kind})"
        return text + (f", pay link {self.pay_url}" if self.pay_url else "")


def available_templates(order: dict) -> list[str]:
    """The template ids an order may be sent, in id order (none without a billing email)."""
    if not order["billing"].get("email") or order["status"] in NO_EMAIL_STATUSES:
        return []
    ids = {"customer_invoice"}
    if order["status"] in STATUS_TEMPLATES:
        ids.add(STATUS_TEMPLATES[order["status"]])
    return sorted(ids)


def subject(kind: str, order: dict) -> str:
    """The subject line of a template for an order."""
    number = order["number"]
    if kind == "customer_invoice":
        if order["needs_payment"]:
            return f"Invoice for order #{number} on {SITE_TITLE}"
        return f"Your {SITE_TITLE} order #{number}"
    title = CUSTOMER_TEMPLATES.get(kind, (kind.replace("_", " ").capitalize(), ""))[0]
    return f"{title}: order #{number} on {SITE_TITLE}"
