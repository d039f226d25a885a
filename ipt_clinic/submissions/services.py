"""One-time form keys: a form that creates something carries a key that makes sending it a
second time harmless (a double click, the Back button, a retry after a lost answer).

The rule, which every create service taking ``form_key`` follows:

* Each rendering of the form gets a fresh random key (``form_key_issue``), signed for what
  it is bound to: the form (``purpose``), the clinic, and the record the new one belongs to
  (``scope``: the patient, the session, the note...). A key sent to any other form, record or
  clinic is refused (``SubmissionRefused``): nothing is saved and the page keeps the text.
* Inside the create's transaction the service claims the key (``submission_claim``: an
  INSERT that the unique (clinic, key) constraint lets through once), creates the record and
  writes it against the key (``submission_done``).
* The same key again with the same content: nothing new is made; the service raises
  ``AlreadySaved`` with the first record, and the page answers as if it had just saved it,
  saying it was already saved.
* The same key again with other content: a create refuses it (``SubmissionRefused`` naming
  what the first sending saved); the form comes back with the text kept and a fresh key, so
  saving it again adds a second record on purpose. A questionnaire records a correction
  instead (``sessions.measures.measure_record``).
* No key (the demo seeder, the benchmarks, a test calling the service): no check.

Two sendings at once: on PostgreSQL the second INSERT waits for the first transaction and
fails once it commits, so the second reads the committed claim and answers as above.
"""

import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from django.core import signing
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.text import Truncator

from ipt_clinic.accounts.models import Clinic

from .models import FormSubmission

KEY_MAX_LENGTH = 100

KEY_FROM_ELSEWHERE = (
    "This form belongs to another record, another form or another clinic (or it has "
    "expired), so nothing was saved. What you entered is below: check it and save again."
)


class AlreadySaved(Exception):
    """The form was sent again with the same content: nothing new was saved. ``record`` is
    what its first sending made."""

    message = "Already saved: this form had been sent before, so nothing was added twice."

    def __init__(self, record: models.Model):
        super().__init__(self.message)
        self.record = record


class SubmissionRefused(ValidationError):
    """The form's key cannot be used for this sending; nothing was saved."""


@dataclass(frozen=True)
class FormBinding:
    """What one form's keys are bound to."""

    purpose: str
    clinic_id: int
    scope: str

    def signer(self) -> signing.Signer:
        salt = f"ipt_clinic.submissions:{self.purpose}:{self.clinic_id}:{self.scope}"
        return signing.Signer(salt=salt)


@dataclass(frozen=True)
class FormPurpose:
    """A form that creates one kind of record, e.g. ``FormPurpose("patients.life_event")``."""

    name: str

    def bind(self, record: models.Model) -> FormBinding:
        """Keys for this form adding to ``record`` (which carries ``clinic_id``)."""
        return self.bind_id(type(record), record.pk, clinic_id=record.clinic_id)

    def bind_id(self, model: type[models.Model], pk: int, *, clinic_id: int) -> FormBinding:
        """``bind`` for a record known by its id only."""
        return FormBinding(self.name, clinic_id, f"{model._meta.label_lower}:{pk}")


@dataclass
class Claim:
    """The answer of ``submission_claim``: ``submission`` is None without a key."""

    submission: FormSubmission | None
    digest: str
    repeated: bool = False

    @property
    def same_content(self) -> bool:
        return self.submission is not None and self.submission.content_hash == self.digest


def form_key_issue(binding: FormBinding) -> str:
    """A fresh key for one rendering of the form: random, signed for ``binding``."""
    return binding.signer().sign(secrets.token_urlsafe(16))


def form_key_check(binding: FormBinding, key: str) -> None:
    """Refuse a key that was not issued for ``binding``."""
    try:
        if len(key) > KEY_MAX_LENGTH:
            raise signing.BadSignature("too long")
        binding.signer().unsign(key)
    except signing.BadSignature:
        raise SubmissionRefused(KEY_FROM_ELSEWHERE, code="form_key_elsewhere") from None


class _ContentEncoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, models.Model):
            return o.pk
        return super().default(o)


def content_hash(content: Any) -> str:
    """SHA-256 of ``content`` (a dict or list of plain values, dates or model instances,
    which count by primary key) written as canonical JSON."""
    text = json.dumps(content, cls=_ContentEncoder, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def quoted(text: str, limit: int = 80) -> str:
    """``text`` in quotation marks, cut at ``limit`` characters, for naming a saved record."""
    return f"“{Truncator(text).chars(limit)}”"


def submission_claim(*, binding: FormBinding, key: str | None, content: Any, by=None) -> Claim:
    """Claim ``key`` for a sending of ``content`` (see the module's rule).

    Call inside the create's transaction, before creating anything. Returns a claim that is
    new (create the record, then ``submission_done``) or ``repeated`` (the row of the first
    sending, locked; ``same_content`` says whether this sending is the same). Raises
    ``SubmissionRefused`` for a key issued for another binding. Without a key, returns a claim
    with no submission and checks nothing."""
    if not key:
        return Claim(None, "")
    form_key_check(binding, key)
    digest = content_hash(content)
    try:
        with transaction.atomic():
            submission = FormSubmission.objects.create(
                clinic_id=binding.clinic_id,
                key=key,
                purpose=binding.purpose,
                scope=binding.scope,
                content_hash=digest,
                created_by=by if getattr(by, "is_authenticated", False) else None,
            )
    except IntegrityError:
        submission = FormSubmission.objects.select_for_update().get(
            clinic_id=binding.clinic_id, key=key
        )
        if (submission.purpose, submission.scope) != (binding.purpose, binding.scope):
            # The signature already ties a key to its binding; this is the last word.
            raise SubmissionRefused(KEY_FROM_ELSEWHERE, code="form_key_elsewhere") from None
        return Claim(submission, digest, repeated=True)
    return Claim(submission, digest)


def submission_done(claim: Claim, record: models.Model) -> None:
    """Write against the claimed key the record this sending made and what it sent."""
    if claim.submission is None:
        return
    FormSubmission.objects.filter(pk=claim.submission.pk).update(
        content_hash=claim.digest,
        object_type=record._meta.label_lower,
        object_id=record.pk,
        updated_at=timezone.now(),
    )


def submission_repeat_answer(claim: Claim, model: type[models.Model], *, describe) -> NoReturn:
    """The answer to a create form sent again: ``AlreadySaved`` with the first record for the
    same content, ``SubmissionRefused`` naming it (``describe(record)``) for other content."""
    submission = claim.submission
    record = model.objects.get(clinic_id=submission.clinic_id, pk=submission.object_id)
    if claim.same_content:
        raise AlreadySaved(record)
    tz = Clinic.objects.get(pk=submission.clinic_id).tz
    saved_at = timezone.localtime(submission.created_at, tz)
    raise SubmissionRefused(
        f"This form was already sent and saved as {describe(record)} on {saved_at.day} "
        f"{saved_at:%b %Y} at {saved_at:%H:%M}. What you sent now is different and was not "
        "saved. To add another, check what you entered below and save again: it is now a "
        "fresh form.",
        code="form_key_used",
    )
