"""Placing approved inspections on team-days: a pure, deterministic function.

A *slot* is one team on one working day; it holds at most ``per_team_day`` visits. A visit may go to a
slot when its team has no member in ``conflicts[establishment_id]``, the team is not busy that day
(members elsewhere) and the establishment has not declared the day unavailable.

``place_visits`` works in two phases:

1. **Greedy, day by day, team by team.** Each free slot is seeded with the highest-risk (lowest rank)
   visit it can take, then filled from the seed's commune in rank order. Only a slot that its commune
   cannot fill takes visits of another commune, chosen among the communes whose remaining count would
   otherwise leave a lonely visit (remainder modulo ``per_team_day``), nearest in code order first (codes
   of one province are numbered roughly by place). So team-days stay in one commune except to avoid
   wasting capacity, every team-day is full but the last ones, and higher-risk visits come first.
2. **Repair by augmenting paths.** A visit the greedy could not place is moved in along the shortest chain
   of moves (visit → full slot → one of its visits moves to another slot → … → a slot with room),
   preferring slots already in use to opening a team-day. When no chain exists the instance is infeasible
   and the set of visits reached proves it (Hall's condition): ``StageBlocked`` names them.

``reschedule`` moves one establishment off its day with the same search: a direct move when a slot has
room (nothing else moves), otherwise the shortest chain of moves.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from services.errors import NotFound, StageBlocked

__all__ = ["Placement", "TeamSpec", "Visit", "place_visits", "reschedule"]

_NO_CONFLICTS: Mapping[int, frozenset[int]] = {}


@dataclass(frozen=True)
class Visit:
    establishment_id: int
    commune_code: str
    rank: int
    unavailable: frozenset[date] = frozenset()


@dataclass(frozen=True)
class TeamSpec:
    index: int
    members: frozenset[int]
    busy: frozenset[date] = frozenset()  # days a member is elsewhere (another campaign)


@dataclass(frozen=True)
class Placement:
    establishment_id: int
    team_index: int
    day: date


Slot = tuple[int, int]  # (team position, day position)


class _Board:
    """The instance in positions (teams, days, visits in rank order) and the current slot loads."""

    def __init__(self, visits: Sequence[Visit], teams: Sequence[TeamSpec], days: Sequence[date], per_team_day: int,
                 conflicts: Mapping[int, frozenset[int]]) -> None:
        if per_team_day < 1:
            raise ValueError("per_team_day must be at least 1")
        ids = [v.establishment_id for v in visits]
        if len(set(ids)) != len(ids):
            raise ValueError("each establishment may be visited only once")
        if len({t.index for t in teams}) != len(teams):
            raise ValueError("team indexes must be unique")
        self.visits = sorted(visits, key=lambda v: (v.rank, v.establishment_id))
        self.teams = sorted(teams, key=lambda t: t.index)
        self.days = sorted(set(days))
        self.cap = per_team_day
        self.conflicts = conflicts
        self.pos = {v.establishment_id: i for i, v in enumerate(self.visits)}
        self.day_pos = {d: i for i, d in enumerate(self.days)}
        self.team_pos = {t.index: i for i, t in enumerate(self.teams)}
        self.busy = [frozenset(self.day_pos[d] for d in t.busy if d in self.day_pos) for t in self.teams]
        self.eligible = [tuple(i for i, t in enumerate(self.teams) if not t.members & conflicts.get(v.establishment_id, frozenset()))
                         for v in self.visits]
        self.mask = [sum(1 << i for i in e) for e in self.eligible]
        self.off = [frozenset(self.day_pos[d] for d in v.unavailable if d in self.day_pos) for v in self.visits]
        self.load: dict[Slot, list[int]] = {}
        self.where: list[Slot | None] = [None] * len(self.visits)
        self.last_reached: set[int] = set()  # after a failed search: the visits that compete for last_slots
        self.last_slots: list[Slot] = []

    def fits(self, v: int, slot: Slot) -> bool:
        t, d = slot
        return bool(self.mask[v] >> t & 1) and d not in self.off[v] and d not in self.busy[t]

    def slots_for(self, v: int, *, not_days: frozenset[int] = frozenset()) -> Iterator[Slot]:
        """The slots ``v`` may use, earliest day first."""
        for d in range(len(self.days)):
            if d in self.off[v] or d in not_days:
                continue
            for t in self.eligible[v]:
                if d not in self.busy[t]:
                    yield (t, d)

    def put(self, v: int, slot: Slot) -> None:
        old = self.where[v]
        if old is not None:
            self.load[old].remove(v)
            if not self.load[old]:
                del self.load[old]
        self.load.setdefault(slot, []).append(v)
        self.where[v] = slot

    def name(self, v: int) -> str:
        return f"cơ sở {self.visits[v].establishment_id}"

    def placements(self) -> list[Placement]:
        out = []
        for v, slot in enumerate(self.where):
            assert slot is not None
            out.append(Placement(self.visits[v].establishment_id, self.teams[slot[0]].index, self.days[slot[1]]))
        return sorted(out, key=lambda p: (p.day, p.team_index, self.pos[p.establishment_id]))

    # ------------------------------------------------------------------ checks before placing

    def check_feasible_alone(self) -> None:
        """Refuse, with the specific cause, what no placement can satisfy."""
        n, cap = len(self.visits), self.cap
        for v, visit in enumerate(self.visits):
            if not self.eligible[v]:
                people = sorted(self.conflicts.get(visit.establishment_id, frozenset()))
                raise StageBlocked(
                    f"Không thể xếp lịch {self.name(v)}: đoàn nào cũng có thành viên có xung đột lợi ích với cơ sở "
                    f"(người {', '.join(map(str, people))}) trong {len(self.teams)} đoàn.",
                    establishment_id=visit.establishment_id, person_ids=people)
        available = sum(len(self.days) - len(b) for b in self.busy)
        needed = -(-n // cap)
        if available < needed:
            raise StageBlocked(
                f"Không đủ ngày làm việc cho đợt kiểm tra: cần {needed} lượt đoàn-ngày cho {n} cuộc kiểm tra "
                f"(tối đa {cap} cuộc mỗi đoàn mỗi ngày), còn {available} lượt đoàn-ngày ({len(self.days)} ngày làm "
                f"việc, {len(self.teams)} đoàn, trừ ngày đoàn bận).", needed_team_days=needed, available_team_days=available)
        for v, visit in enumerate(self.visits):
            if next(self.slots_for(v), None) is None:
                raise StageBlocked(
                    f"Không thể xếp lịch {self.name(v)}: trong {len(self.days)} ngày làm việc của đợt, không ngày nào "
                    f"cơ sở tiếp được đoàn mà có đoàn không bận và không có xung đột lợi ích với cơ sở.",
                    establishment_id=visit.establishment_id)

    # ------------------------------------------------------------------ phase 1: greedy

    def greedy(self) -> None:
        order = list(range(len(self.visits)))
        by_commune: dict[str, list[int]] = {}
        for v in order:
            by_commune.setdefault(self.visits[v].commune_code, []).append(v)
        remaining = {c: len(vs) for c, vs in by_commune.items()}
        communes = sorted(by_commune)
        index = {c: i for i, c in enumerate(communes)}
        left = len(order)

        def take(v: int, slot: Slot) -> None:
            nonlocal left
            self.put(v, slot)
            remaining[self.visits[v].commune_code] -= 1
            left -= 1

        def fill(slot: Slot, pool: list[int], room: int) -> int:
            for v in pool:
                if room == 0:
                    break
                if self.where[v] is None and self.fits(v, slot):
                    take(v, slot)
                    room -= 1
            return room

        for d in range(len(self.days)):
            for t in range(len(self.teams)):
                if left == 0:
                    return
                if d in self.busy[t]:
                    continue
                slot = (t, d)
                seed = next((v for v in order if self.where[v] is None and self.fits(v, slot)), None)
                if seed is None:
                    continue
                home = self.visits[seed].commune_code
                take(seed, slot)
                room = fill(slot, by_commune[home], self.cap - 1)
                if room == 0:
                    continue
                near = sorted((c for c in communes if c != home and remaining[c]),
                              key=lambda c: (abs(index[c] - index[home]), index[c]))
                for c in near:  # first the communes that would otherwise leave a lonely visit
                    want = remaining[c] % self.cap
                    if 0 < want <= room:
                        room -= want - fill(slot, by_commune[c], want)
                for c in near:
                    if room:
                        room = fill(slot, by_commune[c], room)
            order = [v for v in order if self.where[v] is None]
            by_commune = {c: [v for v in vs if self.where[v] is None] for c, vs in by_commune.items()}

    # ------------------------------------------------------------------ phase 2: augmenting paths

    def move_directly(self, u: int, *, not_days: frozenset[int], around: Slot) -> bool:
        """Put ``u`` in the preferred slot with room, moving nothing else. False if every slot it may use is full."""
        free = [s for s in self.slots_for(u, not_days=not_days) if len(self.load.get(s, [])) < self.cap]
        if not free:
            return False
        self.put(u, min(free, key=lambda s: self._preference(u, s, around)))
        return True

    def augment(self, u: int, *, not_days: frozenset[int] = frozenset()) -> bool:
        """Place ``u`` by the shortest chain of moves; slots in use before new team-days. False if none."""
        open_slots = sum(len(self.days) - len(b) for b in self.busy)
        for allow_new in (False, True) if len(self.load) < open_slots else (False,):
            chain = self._chain(u, not_days, allow_new)
            if chain is not None:
                for v, slot in chain:
                    self.put(v, slot)
                return True
        return False

    def _chain(self, u: int, not_days: frozenset[int], allow_new: bool) -> list[tuple[int, Slot]] | None:
        came: dict[Slot, int] = {}
        reached = {u}
        queue = deque([u])
        while queue:
            v = queue.popleft()
            for slot in self.slots_for(v, not_days=not_days if v == u else frozenset()):
                if slot in came or slot == self.where[v]:
                    continue
                occupants = self.load.get(slot, [])
                if not occupants and not allow_new:
                    continue
                came[slot] = v
                if len(occupants) < self.cap:
                    return self._unwind(slot, came, u)
                for w in occupants:
                    if w not in reached:
                        reached.add(w)
                        queue.append(w)
        self.last_reached, self.last_slots = reached, list(came)
        return None

    def _unwind(self, slot: Slot, came: dict[Slot, int], u: int) -> list[tuple[int, Slot]]:
        chain = []
        while True:
            v = came[slot]
            chain.append((v, slot))
            if v == u:
                return chain[::-1]
            held = self.where[v]
            assert held is not None, "every visit on the chain after the first one holds a slot"
            slot = held

    def _preference(self, u: int, slot: Slot, around: Slot) -> tuple[int, int, int, int]:
        """Direct moves: same-commune team-day with room, then any with room, then a new team-day; nearest day."""
        occupants = self.load.get(slot, [])
        home = self.visits[u].commune_code
        kind = 0 if occupants and all(self.visits[w].commune_code == home for w in occupants) else 1 if occupants else 2
        return (kind, abs(slot[1] - around[1]), slot[1], slot[0])

    def refuse(self, u: int, *, why: str = "") -> StageBlocked:
        stuck = sorted(self.visits[v].establishment_id for v in self.last_reached)
        shown = ", ".join(map(str, stuck[:10])) + (", …" if len(stuck) > 10 else "")
        return StageBlocked(
            f"Không thể xếp lịch {self.name(u)}{why}: {len(stuck)} cơ sở ({shown}) chỉ có thể được kiểm tra trong "
            f"{len(self.last_slots)} lượt đoàn-ngày ({len(self.last_slots) * self.cap} chỗ), do ngày cơ sở không tiếp "
            f"được, ngày đoàn bận và xung đột lợi ích; cần {len(stuck)} chỗ.",
            establishment_id=self.visits[u].establishment_id, establishment_ids=stuck,
            team_days=len(self.last_slots))


def place_visits(visits: Sequence[Visit], *, teams: Sequence[TeamSpec], days: Sequence[date], per_team_day: int,
                 conflicts: Mapping[int, frozenset[int]] = _NO_CONFLICTS) -> list[Placement]:
    """Every visit on one (team, day) obeying every rule, in (day, team, rank) order; StageBlocked if impossible.

    ``days`` are the working days the visits may use (inside the period, after the notice period);
    ``conflicts`` maps an establishment id to the person ids who may not inspect it.
    """
    board = _Board(visits, teams, days, per_team_day, conflicts)
    if not board.visits:
        return []
    board.check_feasible_alone()
    board.greedy()
    for u, slot in enumerate(board.where):
        if slot is None and not board.augment(u):
            raise board.refuse(u)
    return board.placements()


def reschedule(placements: Sequence[Placement], *, establishment_id: int, visits: Sequence[Visit],
               teams: Sequence[TeamSpec], days: Sequence[date], per_team_day: int,
               conflicts: Mapping[int, frozenset[int]] = _NO_CONFLICTS,
               not_on: frozenset[date] = frozenset()) -> list[Placement]:
    """Move one establishment to another day (never its current day nor ``not_on``), moving as little else as
    possible: nothing when a team-day has room for it, otherwise the shortest chain of moves. Returns the full
    list in the input order. Placements on days outside ``days`` (e.g. already past) stay as they are."""
    board = _Board(visits, teams, days, per_team_day, conflicts)
    current = next((p for p in placements if p.establishment_id == establishment_id), None)
    if current is None or establishment_id not in board.pos:
        raise NotFound(f"Không có cuộc kiểm tra đã xếp lịch cho cơ sở {establishment_id}.", establishment_id=establishment_id)
    if any(p.establishment_id not in board.pos or p.team_index not in board.team_pos for p in placements):
        raise ValueError("every placement must name a given visit and a given team")
    for p in placements:
        if p.day in board.day_pos and p.establishment_id != establishment_id:
            board.put(board.pos[p.establishment_id], (board.team_pos[p.team_index], board.day_pos[p.day]))
    u = board.pos[establishment_id]
    barred = frozenset(board.day_pos[d] for d in not_on | {current.day} if d in board.day_pos)
    around = (board.team_pos.get(current.team_index, 0), board.day_pos.get(current.day, 0))
    if not board.move_directly(u, not_days=barred, around=around) and not board.augment(u, not_days=barred):
        why = f" sang ngày khác (trừ ngày {current.day:%d/%m/%Y}" + "".join(f", {d:%d/%m/%Y}" for d in sorted(not_on)) + ")"
        raise board.refuse(u, why=why)
    out = []
    for p in placements:
        slot = board.where[board.pos[p.establishment_id]] if p.establishment_id in board.pos else None
        if slot is not None:  # on the board: loaded from a day in ``days``, or the moved establishment
            p = replace(p, team_index=board.teams[slot[0]].index, day=board.days[slot[1]])
        out.append(p)
    return out
