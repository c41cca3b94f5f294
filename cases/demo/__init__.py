"""Fake applications in bulk, for benchmarks and demos (never for real data).

`python manage.py generate_demo_cases --count 100000 [--seed 1] [--batch 5000]` adds that many
applications, each with its own child record and, when submitted, two guardians. The values
look real (Chinese names, valid GB 11643 ID numbers, current county codes, ICD codes inside
the chosen category) so that the staff pages and their queries see realistic data.

A submitted application is routed as cases.review.services.route routes it (one review per active
member with the eligibility snapshot of the member's open projects, standard.md §3), in
bulk, and each review is given a life that fits its age: reviews still inside the member's
time limit are mostly pending or in review, older ones were approved (a pledge within the
funding gap), declined, expired by the time limit, or still wait for requested
information. Every state change has its ReviewEvent, at a time that fits. Grants decided
long enough ago have the money side too (standard.md §4): a medical receipt of the child,
an allocation of it to the pledge and one or two payments, so pledges are `paying` or
`paid`; a few applications are withdrawn by the family, and some paid ones closed.
`--route-existing` does the same for submitted applications that have no reviews yet (a
database filled before routing existed); it may be given with or without --count.

With --seed everything follows the seed, reference numbers too (drawn from the seeded
generator instead of `secrets`); with --until the history ends on that day instead of now,
so that `--seed 1 --until 2026-06-30` makes the same rows on every run into an empty
database. Without --seed, references come from cases.references.new_reference.
"""
