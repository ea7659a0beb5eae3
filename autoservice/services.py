"""Actions on shops and their staff."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db import transaction
from django.http import HttpRequest

from .mail import send_templated
from .models import Membership, Role, Shop

User = get_user_model()


@transaction.atomic
def member_create(
    *, shop: Shop, email: str, first_name: str, last_name: str, role: str
) -> Membership:
    """Add a staff member. They get no password: an e-mail invites them to set one."""
    user = User.objects.create_user(
        username=email.lower(), email=email.lower(), first_name=first_name, last_name=last_name
    )
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return Membership.objects.create(user=user, shop=shop, role=role)


def member_invite(
    *,
    shop: Shop,
    email: str,
    first_name: str,
    last_name: str,
    role: str,
    request: HttpRequest,
) -> Membership | None:
    """Add a staff member and e-mail them the invitation; None when the address already has
    an account (of another shop: one account belongs to one shop). Then the address gets a
    letter saying so instead, and the manager's answer is the same as for a new colleague,
    so that inviting tells nobody which addresses have accounts."""
    email = email.lower()
    if User.objects.filter(username=email).exists():
        send_templated(
            template="registration/invitation_taken",
            context={"shop": shop, "email": email},
            shop=shop,
            to=[email],
            message_id=f"invitation-taken-{shop.pk}-{uuid.uuid4().hex}",
        )
        return None
    membership = member_create(
        shop=shop, email=email, first_name=first_name, last_name=last_name, role=role
    )
    member_send_invitation(membership=membership, request=request)
    return membership


def member_send_invitation(*, membership: Membership, request: HttpRequest) -> None:
    """Django's password-reset e-mail doubles as the invitation to set a first password."""
    form = PasswordResetForm({"email": membership.user.email})
    if form.is_valid():
        # Users with an unusable password are skipped by get_users(); invite them anyway.
        form.get_users = lambda email: [membership.user]  # type: ignore[method-assign]
        form.save(
            request=request,
            use_https=request.is_secure(),
            subject_template_name="registration/invitation_subject.txt",
            email_template_name="registration/invitation_email.txt",
            extra_email_context={"shop": membership.shop},
        )


def member_update(*, membership: Membership, role: str, is_active: bool) -> Membership:
    membership.role = role
    membership.save(update_fields=["role"])
    if membership.user.is_active != is_active:
        membership.user.is_active = is_active
        membership.user.save(update_fields=["is_active"])
    return membership


@transaction.atomic
def shop_settings_save(*, shop: Shop, profile, working_hours: dict, leads) -> Shop:
    """Profile, hours and request settings in one save; a changed consent text is a new
    version (earlier consents keep citing theirs)."""
    from .consent import consent_text_publish

    shop = profile.save(commit=False)
    shop.working_hours = working_hours
    for field in ("sla_minutes", "notification_emails", "embed_origins"):
        setattr(shop, field, leads.cleaned_data[field])
    shop.save()
    consent_text_publish(
        shop=shop,
        title=leads.cleaned_data["consent_title"],
        body=leads.cleaned_data["consent_body"],
    )
    return shop


def shop_managers(shop: Shop) -> list[Membership]:
    return list(
        shop.memberships.filter(role=Role.MANAGER, user__is_active=True).select_related("user")
    )
