"""How long the card-number check takes on the texts it guards: `python -m benchmarks.cards`."""

from __future__ import annotations

import random
import time
import timeit

from backoffice.domain.cards import find_card_numbers, mask_card_numbers

SHORT_TEXTS = {
    "empty": "",
    "name": "Maria Jose Carreño Quiñones",
    "address": "Flat 4, 221B Baker Street, London NW1 6XE",
    "delivery note": "Please leave the parcel at the back door, ring twice.",
    "phone": "+44 20 7946 0958",
    "order reference": "Order #104233, 2 items, tracking 1Z999AA10123456784",
    "USPS tracking": "9400 1000 0000 0000 0000 00",
    "card number": "Paid by phone with 4111 1111 1111 1111, exp 12/26",
}


def _long_note(size: int = 10_000) -> str:
    """A 10 KB note dense with numbers (one character in six is a digit)."""
    rng = random.Random(7)
    words = (
        "customer called about order {n} and asked to change the delivery date to "
        "the {d}th; parcel weighs {w} kg, invoice {n} paid, phone back on 0{p}"
    ).split()
    out: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(words).format(
            n=rng.randint(1000, 99999),
            d=rng.randint(1, 28),
            w=rng.randint(1, 30),
            p=rng.randint(100_000_000, 999_999_999),
        )
        out.append(word)
        length += len(word) + 1
    return " ".join(out)[:size]


def _ns_per_call(func, text: str) -> float:
    # CPU time of this process, so other work on a shared machine skews it less.
    timer = timeit.Timer(lambda: func(text), timer=time.process_time)
    loops, _ = timer.autorange()
    loops = max(loops, 10)
    best = min(timer.repeat(repeat=5, number=loops))
    return best / loops * 1e9


def main() -> None:
    long_note = _long_note()
    cases = dict(SHORT_TEXTS)
    cases["10 KB of prose"] = (SHORT_TEXTS["delivery note"] + " ") * 190
    cases["10 KB note, many numbers"] = long_note
    cases["10 KB note with a card at the end"] = long_note[:-40] + " card 4242-4242-4242-4242"
    cases["10 KB of digit groups"] = " ".join(
        str(random.Random(3).randint(0, 999)) for _ in range(2_500)
    )[:10_000]
    width = max(len(name) for name in cases)
    print(f"{'text':<{width}}  {'find ns/call':>14}  {'mask ns/call':>14}")
    for name, text in cases.items():
        find = _ns_per_call(find_card_numbers, text)
        mask = _ns_per_call(mask_card_numbers, text)
        print(f"{name:<{width}}  {find:>14,.0f}  {mask:>14,.0f}")


if __name__ == "__main__":
    main()
