"""Fake applications in bulk, for benchmarks and demos (never for real data): see
cases.demo for what is made and how (the people, the bulk inserts, the routing through the
review services' builders). This command parses the options, loads the directory, runs the
workers and reports."""

from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from datetime import date, datetime, timedelta

import yaml
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases import references
from cases.demo.bulk import explicit_timestamps, insert
from cases.demo.people import DRAFT_SHARE, HISTORY_DAYS, Faker
from cases.demo.router import DAY, DEFAULT_WORKERS, ROUTE_CHUNK, Router
from cases.models import (
    Allocation,
    Application,
    Child,
    ChildIdentity,
    Guardian,
    MemberReview,
    Payment,
    Receipt,
    ReviewEvent,
)
from organizations import services
from organizations.management.commands.load_demo import DEMO_PASSWORD, DIRECTORY_FILE
from organizations.models import DiseaseCategory, MemberOrganization, User
from reports import aggregates as report_aggregates


class Command(BaseCommand):
    help = (
        "Add N fake applications (demo data for benchmarks) to the demo directory, routed to "
        "the members; --route-existing routes submitted applications that have no reviews."
    )

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=0, help="How many to add.")
        parser.add_argument(
            "--seed", type=int, default=None, help="Random seed: the same rows for the same seed."
        )
        parser.add_argument(
            "--until",
            type=date.fromisoformat,
            default=None,
            help="The last day of the history (YYYY-MM-DD; default: now).",
        )
        parser.add_argument("--batch", type=int, default=5000, help="Rows per transaction.")
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help=(
                f"Processes generating at once (default {DEFAULT_WORKERS} on PostgreSQL, 1 on "
                "SQLite or inside a transaction). The same seed and workers give the same rows."
            ),
        )
        parser.add_argument(
            "--route-existing",
            action="store_true",
            help="First route the submitted applications that have no member reviews yet.",
        )
        parser.add_argument(
            "--i-know-this-is-demo",
            action="store_true",
            dest="demo_ok",
            help="Run even with DEBUG off (fake applications, demo users with a known password).",
        )

    def handle(
        self,
        *args,
        count=0,
        seed=None,
        until=None,
        batch=5000,
        route_existing=False,
        demo_ok=False,
        workers=None,
        **options,
    ):
        if not settings.DEBUG and not demo_ok:
            raise CommandError(
                "DEBUG is off: this fills the database with fake applications. Pass "
                "--i-know-this-is-demo to run it anyway."
            )
        if count < 0 or batch < 1 or not (count or route_existing):
            raise CommandError(
                "Give --count (at least 1) and/or --route-existing; --batch is at least 1."
            )
        if workers is not None and workers < 1:
            raise CommandError("--workers is at least 1.")
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            # SQLite has one writer; inside a transaction (tests) other processes would not
            # see the directory.
            workers = 1
        workers = min(workers or DEFAULT_WORKERS, max(count, 1))
        # The directory, the staff and the reviewers exist before any worker starts.
        self._directory_and_staff()
        reviewers = self._reviewers()
        rng = random.Random(seed)  # noqa: S311 - fake data, not secrets
        now = timezone.now()
        if until is not None:
            end_of_day = datetime.combine(until + DAY, datetime.min.time())
            now = min(now, timezone.make_aware(end_of_day) - timedelta(microseconds=1))
        verbose = options.get("verbosity", 1) > 1
        router = Router(rng, now=now, reviewers=reviewers)
        if route_existing:
            self._route_existing(router, batch, verbose)
        if count:
            started = time.monotonic()
            if workers == 1:
                parts = [self._generate_part(0, 1, count, seed, batch, now, verbose, rng, router)]
            else:
                # Each worker its own connection: none is shared across the fork.
                connections.close_all()
                jobs = [
                    (w, workers, count // workers + (w < count % workers))
                    + (seed, batch, now, verbose)
                    for w in range(workers)
                ]
                with multiprocessing.get_context("fork").Pool(workers) as pool:
                    parts = pool.starmap(_generate_part, jobs)
            self._report(parts, time.monotonic() - started, workers)
        self._analyze()
        if report_aggregates.is_kept():
            # Written in bulk, not through the services that keep the report's figures.
            report_aggregates.rebuild()

    def _generate_part(
        self, worker, workers, count, seed, batch, now, verbose, rng=None, router=None
    ) -> dict:
        """`count` applications by worker `worker` of `workers`: its own random stream
        (the seed's own when alone), references and receipt numbers no other worker draws."""
        if rng is None:
            rng = random.Random(f"{seed}:{worker}/{workers}" if seed is not None else None)  # noqa: S311
        # Seeded references follow the seed too (see the module's docstring).
        self.reference_rng = rng if seed is not None else None
        self.part = (worker, workers)
        members, staff = self._directory_and_staff()
        if router is None:
            router = Router(rng, now=now, reviewers=self._reviewers(), part=self.part)
        faker = Faker(
            rng,
            members=members,
            staff=staff,
            categories=list(DiseaseCategory.objects.all()),
            now=now,
        )
        before = (router.reviews, router.events, Counter(router.states))
        guardians = self._generate(count, batch, faker, router, verbose)
        return {
            "count": count,
            "guardians": guardians,
            "reviews": router.reviews - before[0],
            "events": router.events - before[1],
            "states": Counter(router.states) - before[2],
        }

    def _report(self, parts: list[dict], elapsed: float, workers: int) -> None:
        count = sum(p["count"] for p in parts)
        states = sum((p["states"] for p in parts), Counter())
        self.stdout.write(
            f"Generated {count} applications ({count} children, "
            f"{sum(p['guardians'] for p in parts)} guardians, "
            f"{sum(p['reviews'] for p in parts)} member reviews, "
            f"{sum(p['events'] for p in parts)} review events) "
            f"in {elapsed:.1f} s ({count / elapsed:.0f} applications/s, {workers} "
            f"worker{'s' if workers > 1 else ''})."
        )
        self._states(states)

    @staticmethod
    def _analyze() -> None:
        """Fresh statistics for PostgreSQL's planner: right after a bulk load it still plans
        for the empty tables, and a report over 100,000 applications took minutes instead
        of seconds until autovacuum came by."""
        if connection.vendor != "postgresql":
            return
        models = (Child, Application, Guardian, MemberReview, ReviewEvent, Receipt, Allocation)
        tables = ", ".join(m._meta.db_table for m in (*models, Payment))
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {tables}")  # noqa: S608 - table names from the models

    def _generate(self, count: int, batch: int, faker: Faker, router: Router, verbose: bool):
        # Oldest first, so that rows are stored roughly in creation order as in real use.
        ages = sorted(
            (faker.rng.uniform(0, HISTORY_DAYS * 86400) for _ in range(count)), reverse=True
        )
        taken = set(Application.objects.values_list("reference", flat=True))
        guardians = 0
        with explicit_timestamps():
            for start in range(0, count, batch):
                created = [
                    faker.now - timedelta(seconds=age) for age in ages[start : start + batch]
                ]
                guardians += self._batch(faker, router, created, taken)
                if verbose:
                    self.stdout.write(f"  {start + len(created)}/{count}")
        return guardians

    def _route_existing(self, router: Router, batch: int, verbose: bool) -> int:
        """Route, `batch` per transaction, every submitted application with no review."""
        started = time.monotonic()
        unrouted = Application.objects.filter(status=Application.Status.SUBMITTED).exclude(
            Exists(MemberReview.objects.filter(application=OuterRef("pk")))
        )
        total, done, last = unrouted.count(), 0, 0
        with explicit_timestamps():
            while ids := list(
                unrouted.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch]
            ):
                last = ids[-1]
                with transaction.atomic():
                    for start in range(0, len(ids), ROUTE_CHUNK):
                        chunk = ids[start : start + ROUTE_CHUNK]
                        router.route(
                            list(
                                Application.objects.filter(pk__in=chunk)
                                .select_related("child", "category")
                                .order_by("pk")
                            )
                        )
                done += len(ids)
                if verbose:
                    self.stdout.write(f"  routed {done}/{total}")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Routed {done} existing applications ({router.reviews} member reviews, "
            f"{router.events} review events) in {elapsed:.1f} s"
            + (f" ({done / elapsed:.0f} applications/s)." if done else ".")
        )
        if done:
            self._states(router.states)
        return done

    def _states(self, states: Counter) -> None:
        total = sum(states.values()) or 1
        self.stdout.write(
            "  review states: "
            + ", ".join(
                f"{state} {n} ({100 * n / total:.1f}%)" for state, n in states.most_common()
            )
        )

    def _batch(self, faker: Faker, router: Router, created: list[datetime], taken: set[str]) -> int:
        rng = faker.rng
        children, applications, guardians = [], [], []
        for moment in created:
            draft = rng.random() < DRAFT_SHARE
            child = faker.child(moment, filled=not draft or rng.random() < 0.9)
            application = faker.application(moment, child, draft=draft)
            application.reference = self._reference(moment.year, taken)
            children.append(child)
            applications.append(application)
        with transaction.atomic():
            # bulk_create copies each new child's (then application's) key into the rows
            # that point to it.
            insert(ChildIdentity, [child.identity for child in children])
            insert(Child, children)
            insert(Application, applications)
            for application in applications:
                draft = application.status == Application.Status.DRAFT
                count = rng.choice((0, 1, 2)) if draft else 2
                guardians += faker.guardians(application, application.child, count)
            insert(Guardian, guardians)
            # Submission routes in the same transaction (services.application_submit).
            router.route([a for a in applications if a.status == Application.Status.SUBMITTED])
        return len(guardians)

    def _reference(self, year: int, taken: set[str]) -> str:
        while True:  # about 1 in 10,000 draws repeats one of 100,000 references: draw again
            reference = self._draw_reference(year)
            if reference not in taken:
                taken.add(reference)
                return reference

    def _draw_reference(self, year: int) -> str:
        """references.new_reference, from the seeded generator when there is a seed; a
        worker keeps the references whose first random character is its own (one in
        `workers`), so that workers running at once never draw the same one."""
        worker, workers = self.part
        while True:
            reference = self._any_reference(year)
            first = reference.rsplit("-", 1)[1][0]
            if references.ALPHABET.index(first) % workers == worker:
                return reference

    def _any_reference(self, year: int) -> str:
        rng = self.reference_rng
        if rng is None:
            return references.new_reference(year)
        while True:
            payload = f"{year}" + "".join(
                rng.choice(references.ALPHABET) for _ in range(references.RANDOM_LENGTH)
            )
            payload += references.check_character(payload)
            if "0Z" not in payload and "Z0" not in payload:  # references' blind spot
                return f"{references.PREFIX}-{year}-{payload[4:]}"

    def _directory_and_staff(self):
        """The demo directory's members and, for each, the users entered as created_by."""
        if not MemberOrganization.objects.exists() or not DiseaseCategory.objects.exists():
            data = yaml.safe_load(DIRECTORY_FILE.read_text(encoding="utf-8"))
            services.directory_load(data=data)
            self.stdout.write("Loaded the demo directory.")
        members = list(MemberOrganization.objects.order_by("number"))
        by_member: dict[int, list[User]] = {m.pk: [] for m in members}
        for user in User.objects.filter(
            role__in=[User.Role.CASEWORKER, User.Role.REVIEWER], organization__in=members
        ).order_by("username"):
            by_member[user.organization_id].append(user)
        staff = {}
        for member in members:
            users = by_member[member.pk]
            # Caseworkers enter applications; a member with only reviewers uses those.
            caseworkers = [u for u in users if u.role == User.Role.CASEWORKER]
            staff[member.pk] = caseworkers or users or [self._caseworker(member)]
        return members, staff

    def _reviewers(self) -> dict[int, list[int]]:
        """Ids of each active member's reviewers (who decide on its reviews), created when
        a member has none."""
        reviewers: dict[int, list[int]] = {}
        for member in MemberOrganization.objects.filter(is_active=True).order_by("number"):
            ids = list(
                User.objects.filter(organization=member, role=User.Role.REVIEWER, is_active=True)
                .order_by("username")
                .values_list("pk", flat=True)
            )
            reviewers[member.pk] = ids or [self._user(member, User.Role.REVIEWER).pk]
        return reviewers

    def _caseworker(self, member: MemberOrganization) -> User:
        return self._user(member, User.Role.CASEWORKER)

    def _user(self, member: MemberOrganization, role: str) -> User:
        username = f"m{member.number}-{role}"
        if User.objects.filter(username=username).exists():
            username += "-demo"
        user = services.user_create(
            by=None,
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            organization=member,
        )
        self.stdout.write(f"Created {role} {username} (password: {DEMO_PASSWORD}).")
        return user


def _generate_part(worker, workers, count, seed, batch, now, verbose) -> dict:
    """A worker process's share (forked: a new connection, the directory already loaded)."""
    # A connection object inherited from the parent is the parent's session: never use or
    # close it here (closing would end the parent's session); this process opens its own.
    for inherited in connections.all(initialized_only=True):
        inherited.connection = None
    try:
        return Command()._generate_part(worker, workers, count, seed, batch, now, verbose)
    finally:
        connections.close_all()
