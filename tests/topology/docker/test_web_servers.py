"""The nginx and httpd images' servers as `ps`, `docker top` and `docker stop` show them (issue 12
item 8): on a Docker host, nginx's master runs as `nginx: master process nginx -g daemon off;` with
one `nginx: worker process` per CPU (`worker_processes auto`) as user nginx (101); httpd's image
execs `httpd -DFOREGROUND`, a parent and StartServers (3) children as daemon (1). Both stop with
exit code 0 on SIGTERM (docker stop), and exit 1 when they cannot listen."""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

NGINX_MASTER = "nginx: master process nginx -g daemon off;"
NGINX_WORKER = "nginx: worker process"
HTTPD = "httpd -DFOREGROUND"


def ok(lab, args: str) -> str:
    r = docker(lab, args)
    assert r.returncode == 0, r.stderr
    return r.stdout


def _top(lab, name: str, count: int) -> list[tuple[str, int, int, str]]:
    """docker top's rows, (uid, pid, ppid, cmd), once the server runs `count` processes."""

    def rows():
        lines = ok(lab, f"top {name}").splitlines()[1:]
        found = [(w[0], int(w[1]), int(w[2]), w[7]) for w in (line.split(None, 7) for line in lines)]
        return len(found) == count and found

    return wait_for(rows, what=f"{count} processes in {name}")


def _state(lab, name: str) -> list[str]:
    return ok(lab, f"inspect -f '{{{{.State.Status}}}} {{{{.State.ExitCode}}}}' {name}").split()


def _ps(lab, pids: list[int], fields: str) -> list[str]:
    """`ps -o FIELDS` of those processes, one line each with single spaces between the fields."""
    out = sh(lab, f"ps -o {fields} -p {','.join(map(str, pids))}").stdout
    return [" ".join(line.split(None, fields.count(","))) for line in out.splitlines()]


@pytest.mark.parametrize("fixture", ["lab", "lab28"])
def test_nginx_master_and_one_worker_per_cpu(request, fixture):
    lab = request.getfixturevalue(fixture)
    ok(lab, "run -d --name web nginx")
    pid = int(ok(lab, "inspect -f '{{.State.Pid}}' web"))
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    rows = _top(lab, "web", 1 + cpus)
    assert rows[0] == ("root", pid, rows[0][2], NGINX_MASTER)
    assert [(r[2], r[3]) for r in rows[1:]] == [(pid, NGINX_WORKER)] * cpus
    assert (
        _ps(lab, [r[1] for r in rows], "uid=,comm=,args=")
        == [f"0 nginx {NGINX_MASTER}"] + [f"101 nginx {NGINX_WORKER}"] * cpus
    )
    inside = ok(lab, "exec web busybox ps -o user,args").splitlines()[1 : 2 + cpus]  # busybox ps
    assert [line.split(None, 1) for line in inside] == [["root", NGINX_MASTER]] + [
        ["nginx", NGINX_WORKER]
    ] * cpus
    assert "Welcome to nginx!" in sh(lab, "wget -q -O - http://172.17.0.2/").stdout


def test_nginx_starts_a_new_worker_when_one_dies(lab):
    ok(lab, "run -d --name web nginx")
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    dead = _top(lab, "web", 1 + cpus)[1][1]
    sh(lab, f"kill -KILL {dead}")
    rows = wait_for(lambda: (r := _top(lab, "web", 1 + cpus)) and dead not in [p for _, p, _, _ in r] and r)
    assert [r[3] for r in rows] == [NGINX_MASTER] + [NGINX_WORKER] * cpus
    assert "Welcome to nginx!" in sh(lab, "wget -q -O - http://172.17.0.2/").stdout


def test_httpd_parent_and_three_children(lab):
    ok(lab, "run -d --name site httpd")
    pid = int(ok(lab, "inspect -f '{{.State.Pid}}' site"))
    rows = _top(lab, "site", 4)
    assert rows[0] == ("root", pid, rows[0][2], HTTPD)
    assert [(r[2], r[3]) for r in rows[1:]] == [(pid, HTTPD)] * 3
    assert _ps(lab, [r[1] for r in rows], "uid=,comm=") == ["0 httpd"] + ["1 httpd"] * 3
    assert ok(lab, "exec site cat /proc/1/cmdline") == "httpd\0-DFOREGROUND\0"
    inside = ok(lab, "exec site busybox ps -o user,args").splitlines()[1:5]
    assert [line.split(None, 1) for line in inside] == [["root", HTTPD]] + [["daemon", HTTPD]] * 3
    assert "Welcome to httpd!" in sh(lab, "wget -q -O - http://172.17.0.2/").stdout


def test_servers_stop_with_exit_code_0_even_with_a_client_connected(lab):
    ok(lab, "run -d --name web -p 8080:80 nginx")
    ok(lab, "run -d --name site httpd")
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    _top(lab, "web", 1 + cpus), _top(lab, "site", 4)
    # A client that never sends its request: its connection (held by a worker) must not hold the
    # stop up until the KILL, which would make the exit code 137.
    # One script: the client lives as long as the shell that started it.
    connected = "docker exec web busybox netstat -tn | grep -q ESTABLISHED"
    r = sh(
        lab,
        "(sleep 30 | busybox nc 127.0.0.1 8080 &) >/dev/null 2>&1\n"
        f"timeout 10 sh -c 'until {connected}; do sleep 0.05; done' || exit 9\n"
        "docker stop -t 5 web site && docker inspect -f '{{.State.ExitCode}}' web site",
    )
    assert r.stdout.split() == ["web", "site", "0", "0"], r


def test_a_server_that_cannot_listen_exits_1(lab):
    ok(lab, "run -d --name first --net host nginx")
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    _top(lab, "first", 1 + cpus)
    for name, image in (("second", "nginx"), ("third", "httpd")):
        ok(lab, f"run -d --name {name} --net host {image}")
        assert wait_for(lambda n=name: (s := _state(lab, n))[0] != "running" and s) == ["exited", "1"]
    assert ok(lab, "logs second").startswith("nginx: [emerg] bind() to 0.0.0.0:80 failed (98: ")


# The headers the real servers send, in their order (nginx 1.19.6 of nginx:latest f6d0b4767a6c, Apache
# 2.4.46 of httpd:latest 683a7aad17d3) to curl's HTTP/1.1 request: nginx keeps the connection and says so,
# Apache keeps it and says nothing (it answers a client that asked for keep-alive, test_web_answers.py).
HEADERS = {
    "nginx": [
        "Server",
        "Date",
        "Content-Type",
        "Content-Length",
        "Last-Modified",
        "Connection",
        "ETag",
        "Accept-Ranges",
    ],
    "httpd": [
        "Date",
        "Server",
        "Last-Modified",
        "ETag",
        "Accept-Ranges",
        "Content-Length",
        "Content-Type",
    ],
}


@pytest.mark.parametrize(("image", "server"), [("nginx", "nginx/1.19.6"), ("httpd", "Apache/2.4.46 (Unix)")])
def test_servers_answer_with_their_own_headers(lab, image, server):
    ok(lab, f"run -d --name web {image}")

    def curl(*args: str) -> str:  # bytes, as sent: sh's text mode would turn CRLF into LF
        return lab.sandbox.run("host", ["curl", "-s", "-m", "2", *args]).stdout.decode()

    page = wait_for(lambda: curl("-i", "http://172.17.0.2/"), what="the page")
    head, _, body = page.partition("\r\n\r\n")
    status, *lines = head.split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    assert status == "HTTP/1.1 200 OK"
    assert list(headers) == HEADERS[image]
    assert headers["Server"] == server and headers["Content-Type"] == "text/html"
    assert int(headers["Content-Length"]) == len(body.encode()) and f"Welcome to {image}!" in body
    assert headers.get("Connection", "") == {"nginx": "keep-alive", "httpd": ""}[image]
    assert headers["Accept-Ranges"] == "bytes"
    bare = curl("-I", "http://172.17.0.2/")  # HEAD: the same headers, no body
    assert (
        bare.endswith("\r\n\r\n") and [h.split(": ")[0] for h in bare.split("\r\n")[1:-2]] == HEADERS[image]
    )
    missing = curl("-i", "http://172.17.0.2/missing")
    assert missing.startswith("HTTP/1.1 404 Not Found\r\n") and "404 Not Found</" in missing


def test_clients_that_send_nothing_hold_no_worker(lab):
    """The workers poll all their connections: silent clients, more than the workers, hold none of
    them up and add no process (as nginx's event-driven workers)."""
    ok(lab, "run -d --name web nginx")
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    _top(lab, "web", 1 + cpus)
    silent = cpus + 1
    r = sh(
        lab,
        f"for i in $(seq {silent}); do (sleep 30 | busybox nc 172.17.0.2 80 &) >/dev/null 2>&1; done\n"
        "timeout 10 sh -c 'until [ $(docker exec web busybox netstat -tn | grep -c ESTABLISHED) = "
        f"{silent} ]; do sleep 0.05; done' || exit 9\n"
        "timeout 5 wget -q -O - http://172.17.0.2/",
    )
    assert "Welcome to nginx!" in r.stdout, r
    assert len(ok(lab, "top web").splitlines()) == 2 + cpus  # docker top's header, the master, the workers
