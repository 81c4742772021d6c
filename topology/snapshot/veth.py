"""Veth peers across namespaces: which interface of which namespace is the other end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from topology.snapshot.model import Link

# Namespaces bind-mounted in the keeper's /run/netns: `ip netns list-id` run in the keeper's mount
# namespace (router, remote, client scripts) names them, which pins down veth peers exactly.
KEEPER_NAMED = frozenset({"host", "remote", "client"})


def resolve_veth_peers(
    links: Mapping[str, list[Link]],
    nsid_names: Mapping[str, Mapping[int, str] | None] | None = None,
    named: frozenset[str] = KEEPER_NAMED,
) -> dict[str, list[Link]]:
    """Fill in peer_namespace/peer_name of veths whose peer is in another namespace.

    A veth knows its peer's ifindex and the peer namespace's nsid (as its own namespace numbers
    it). Ifindexes repeat across namespaces, so a peer is the interface, in another namespace, that
    has the peer ifindex AND whose own peer ifindex is this one; remaining ties are settled by:
    the nsid names `ip netns list-id` gives where they are authoritative (`nsid_names[ns]`, a dict
    of every nsid of `ns`, named when the namespace is one of `named`), each interface having one
    peer, and one nsid meaning one namespace. Peers still ambiguous stay None.
    """
    nsid_names = nsid_names or {}
    Key = tuple[str, int]
    ends: dict[Key, Link] = {}
    for ns, ls in links.items():
        for link in ls:
            if link.kind == "veth" and link.link_netnsid is not None and link.peer_ifindex is not None:
                ends[(ns, link.ifindex)] = link

    def allowed(key: Key, other_ns: str) -> bool:
        names = nsid_names.get(key[0])
        if names is None:
            return True
        name = names.get(ends[key].link_netnsid)  # type: ignore[arg-type]
        return name == other_ns if name else other_ns not in named

    cands: dict[Key, set[Key]] = {}
    for key, link in ends.items():
        cands[key] = {
            other
            for other, ol in ends.items()
            if other[0] != key[0]
            and ol.ifindex == link.peer_ifindex
            and ol.peer_ifindex == link.ifindex
            and allowed(key, other[0])
            and allowed(other, key[0])
        }
    peer_of: dict[Key, Key] = {}
    changed = True
    while changed:
        changed = False
        # One nsid is one namespace, different nsids are different namespaces.
        known: dict[tuple[str, int], str] = {}
        for key, other in peer_of.items():
            known[(key[0], ends[key].link_netnsid)] = other[0]  # type: ignore[index]
        for key, cs in cands.items():
            if key in peer_of:
                continue
            nsid = ends[key].link_netnsid
            target = known.get((key[0], nsid))  # type: ignore[arg-type]
            others = {ns for (n, i), ns in known.items() if n == key[0] and i != nsid}
            keep = {c for c in cs if (target is None or c[0] == target) and c[0] not in others}
            keep = {c for c in keep if c not in peer_of and key in cands.get(c, ())}
            if keep != cs:
                cands[key] = keep
                changed = True
        for key, cs in cands.items():
            if key not in peer_of and len(cs) == 1:
                other = next(iter(cs))
                if other not in peer_of and key in cands[other]:
                    peer_of[key], peer_of[other] = other, key
                    cands[other] = {key}
                    changed = True
    out: dict[str, list[Link]] = {}
    for ns, ls in links.items():
        res = []
        for link in ls:
            other = peer_of.get((ns, link.ifindex))
            if other is not None and ends.get((ns, link.ifindex)) is link:
                link = replace(link, peer_namespace=other[0], peer_name=ends[other].name)
            elif link.kind == "veth" and link.link_netnsid is None and link.peer_ifindex is not None:
                link = replace(link, peer_namespace=ns)
            res.append(link)
        out[ns] = res
    return out
