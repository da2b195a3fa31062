"""Lock-ordering deadlock: two tellers take the same two locks in opposite orders.

To move money safely a teller locks both accounts.  Teller 1 moves money from A
to B and locks A first; teller 2 moves money from B to A and locks B first.  If
each gets its first lock before the other asks for its second, teller 1 holds A
and waits for B, teller 2 holds B and waits for A: a cycle in the wait-for
graph, and neither can ever go on.

The fix is one global order: every teller locks the accounts in the same order
(alphabetical here), whichever way the money goes.  Then whoever gets the first
lock can always get the second, and a cycle cannot form.
"""

from __future__ import annotations

from visualizer.engine.scenarios.program import (
    RACE_WINDOW,
    Context,
    Param,
    Program,
    ThreadSpec,
)

ROUNDS = Param("rounds", int, 1, 10_000, 20)  # transfers each teller makes


class LockOrdering(Program):
    params = (ROUNDS, RACE_WINDOW)

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.balance = {"A": 1000, "B": 1000}
        self.locks = {name: ctx.tracer.lock(f"account {name}") for name in self.balance}
        self.transfer = self.transfer_ordered if ctx.fixed else self.transfer_unordered

    # --- the bug and its fix, side by side --------------------------------------
    def transfer_unordered(self, source: str, target: str, amount: int) -> None:
        with self.locks[source]:  # first the account we take from ...
            self.ctx.race(f"holds {source}, wants {target}")
            with self.locks[target]:  # ... then this: the other may hold it
                self.balance[source] -= amount
                self.balance[target] += amount

    def transfer_ordered(self, source: str, target: str, amount: int) -> None:
        first, second = sorted((source, target))  # every teller locks A before B
        with self.locks[first]:
            self.ctx.race(f"holds {first}, wants {second}")
            with self.locks[second]:
                self.balance[source] -= amount
                self.balance[target] += amount

    # --- the threads ---------------------------------------------------------------
    def teller(self, source: str, target: str) -> None:
        for _ in range(self.ctx.params["rounds"]):
            self.transfer(source, target, 10)

    def threads(self) -> list[ThreadSpec]:
        return [
            ThreadSpec("teller-1", "teller", lambda: self.teller("A", "B")),
            ThreadSpec("teller-2", "teller", lambda: self.teller("B", "A")),
        ]
