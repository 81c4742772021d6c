"""What the nginx and httpd images' servers answer, as nginx 1.19.6 and Apache 2.4.46 do with the
images' default configurations (checked in their sources): keep-alive connections, a directory
without an index (nginx: 403; Apache: mod_autoindex's listing) and the redirect of a directory's
path without its slash (nginx: the Host header's host and its own listen port, so the published
port of `-p 8080:80` is lost; Apache: the Host header as the client gave it). Each through the
published port (the client, 192.0.2.50, to 203.0.113.2:8080) and to the container's address."""

from __future__ import annotations

import pytest

from tests.polling import wait_for
from tests.topology.kit import docker, sh

pytestmark = pytest.mark.kernel

ROOT = "/var/www/html"  # the web root of the emulation's images
ROUTES = {  # (node the client runs on, the server's URL from there)
    "published": ("client", "http://203.0.113.2:8080"),
    "direct": ("host", "http://172.17.0.2"),
}


def _serve(lab, image: str, *dirs: str) -> None:
    """`docker run -d -p 8080:80 IMAGE` named web, with DIRS made under its web root (a file a.txt
    in each), once it answers."""
    r = docker(lab, f"run -d --name web -p 8080:80 {image}")
    assert r.returncode == 0, r.stderr
    for d in dirs:
        r = docker(lab, f"""exec web busybox sh -c 'mkdir -p "{ROOT}/{d}" && echo a > "{ROOT}/{d}/a.txt"'""")
        assert r.returncode == 0, r.stderr
    code = ("-o", "/dev/null", "-w", "%{http_code}")
    wait_for(lambda: _curl(lab, "direct", "/", *code)[0] == "200", what="the page")


def _curl(lab, route: str, path: str, *args: str) -> tuple[str, str]:
    """curl's stdout and stderr (bytes as sent: CRLF kept), through ROUTE"""
    node, url = ROUTES[route]
    r = lab.sandbox.run(node, ["curl", "-s", "-m", "5", *args, url + path])
    return r.stdout.decode(), r.stderr.decode()


def _heads(out: str) -> list[dict[str, str]]:
    """The headers of each response in `curl -i` output (a response a part)"""
    heads = []
    for part in out.split("HTTP/1.1 ")[1:]:
        lines = part.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
        heads.append(dict(line.split(": ", 1) for line in lines))
    return heads


@pytest.mark.parametrize("route", ["published", "direct"])
def test_nginx_keeps_the_connection_for_further_requests(lab, route):
    _serve(lab, "nginx")
    node, url = ROUTES[route]
    out, err = _curl(lab, route, "/", "-v", "-i", url + "/missing")
    assert "Re-using existing connection" in err
    assert [h["Connection"] for h in _heads(out)] == ["keep-alive", "keep-alive"]
    assert "Welcome to nginx!" in out and "404 Not Found" in out
    # HTTP/1.0: closed unless the client asks for keep-alive; "Connection: close" closes
    assert _heads(_curl(lab, route, "/", "-0", "-i")[0])[0]["Connection"] == "close"
    asked = _curl(lab, route, "/", "-0", "-i", "-H", "Connection: keep-alive")[0]
    assert _heads(asked)[0]["Connection"] == "keep-alive"
    out, err = _curl(lab, route, "/", "-v", "-i", "-H", "Connection: close", url + "/")
    assert "Re-using existing connection" not in err
    assert [h["Connection"] for h in _heads(out)] == ["close", "close"]


@pytest.mark.parametrize("route", ["published", "direct"])
def test_httpd_keeps_the_connection_and_counts_the_requests_down(lab, route):
    _serve(lab, "httpd")
    node, url = ROUTES[route]
    # Apache sends Keep-Alive and "Connection: Keep-Alive" only to a client that asked for them
    # (ap_set_keepalive's ka_sent), MaxKeepAliveRequests 100 counting down
    out, err = _curl(lab, route, "/", "-v", "-i", "-H", "Connection: keep-alive", url + "/", url + "/missing")
    assert err.count("Re-using existing connection") == 2
    assert [(h["Keep-Alive"], h["Connection"]) for h in _heads(out)] == [
        ("timeout=5, max=100", "Keep-Alive"),
        ("timeout=5, max=99", "Keep-Alive"),
        ("timeout=5, max=98", "Keep-Alive"),
    ]
    out, err = _curl(lab, route, "/", "-v", "-i", url + "/")  # curl's plain HTTP/1.1: kept, no header
    assert "Re-using existing connection" in err
    assert ["Connection" in h or "Keep-Alive" in h for h in _heads(out)] == [False, False]
    assert _heads(_curl(lab, route, "/", "-0", "-i")[0])[0]["Connection"] == "close"


@pytest.mark.parametrize("image", ["nginx", "httpd"])
def test_a_connection_takes_100_requests(lab, image):
    """nginx's keepalive_requests 100: the 100th answer closes; Apache's MaxKeepAliveRequests 100
    counts the answers kept after the first, max=100 down to 1: the 101st closes."""
    _serve(lab, image)
    count = {"nginx": 100, "httpd": 101}[image] + 1  # and one more, on a new connection
    url = ROUTES["direct"][1] + "/"
    out, err = _curl(lab, "direct", "/", "-v", "-I", "-H", "Connection: keep-alive", *[url] * (count - 1))
    heads = _heads(out)
    assert len(heads) == count and err.count("Connected to") == 2
    if image == "nginx":
        assert [h["Connection"] for h in heads] == ["keep-alive"] * 99 + ["close", "keep-alive"]
    else:
        assert [h.get("Keep-Alive") for h in heads] == [f"timeout=5, max={n}" for n in range(100, 0, -1)] + [
            None,
            "timeout=5, max=100",
        ]
        assert [h["Connection"] for h in heads] == ["Keep-Alive"] * 100 + ["close", "Keep-Alive"]


def test_an_idle_keep_alive_connection_holds_no_worker(lab):
    """More idle keep-alive connections than workers, each after one answered request: the next
    client is served at once, and no process is added (the workers poll their connections)."""
    _serve(lab, "nginx")
    cpus = int(sh(lab, "getconf _NPROCESSORS_ONLN").stdout)
    idle = cpus + 2
    client = r"(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 30) | busybox nc 172.17.0.2 80"
    count = "$(docker exec web busybox netstat -tn | grep -c ESTABLISHED)"
    r = sh(  # one script: the clients live as long as the shell that started them
        lab,
        f"for i in $(seq {idle}); do ({client} &) >/dev/null 2>&1; done\n"
        f"timeout 10 sh -c 'until [ {count} -ge {idle} ]; do sleep 0.05; done' || exit 9\n"
        # workers held by the idle clients would keep it waiting for their 30 s
        "timeout 5 curl -s http://172.17.0.2/ || exit 8\n",
    )
    assert r.returncode == 0 and "Welcome to nginx!" in r.stdout, r
    assert len(docker(lab, "top web").stdout.splitlines()) == 2 + cpus  # header, master, workers


def test_httpd_closes_an_idle_connection_after_keep_alive_timeout(lab):
    _serve(lab, "httpd")
    request = r"printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'"
    count = "$(docker exec web busybox netstat -tn | grep -c ESTABLISHED)"
    r = sh(  # one script: the client lives as long as the shell that started it
        lab,
        f"(({request}; sleep 20) | busybox nc 172.17.0.2 80 &) >/dev/null 2>&1\n"
        f"timeout 10 sh -c 'until [ {count} = 1 ]; do sleep 0.05; done' || exit 9\n"
        "start=$(date +%s%N)\n"
        f"timeout 15 sh -c 'until [ {count} = 0 ]; do sleep 0.05; done' || exit 8\n"
        "echo $(( ($(date +%s%N) - start) / 1000000 ))",
    )
    assert r.returncode == 0, r
    # KeepAliveTimeout 5: open well after its answer (no close with it), closed within 15 s
    assert int(r.stdout) > 1000, r.stdout


@pytest.mark.parametrize("route", ["published", "direct"])
def test_nginx_forbids_a_directory_without_index(lab, route):
    _serve(lab, "nginx", "dir")
    out, _ = _curl(lab, route, "/dir/", "-i")
    head, _, body = out.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 403 Forbidden\r\nServer: nginx/1.19.6\r\n")
    assert body == (
        "<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
        "<center><h1>403 Forbidden</h1></center>\r\n"
        "<hr><center>nginx/1.19.6</center>\r\n</body>\r\n</html>\r\n"
    )
    assert _heads(out)[0]["Content-Length"] == str(len(body))
    assert _curl(lab, route, "/dir/a.txt")[0] == "a\n"


@pytest.mark.parametrize("route", ["published", "direct"])
def test_httpd_lists_a_directory_without_index(lab, route):
    _serve(lab, "httpd", "dir/sub dir")
    docker(lab, f"exec web busybox sh -c 'echo x > {ROOT}/dir/b.txt; echo x > {ROOT}/dir/.htaccess'")
    out, _ = _curl(lab, route, "/dir/", "-i")
    head, _, body = out.partition("\r\n\r\n")
    assert body == (
        '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
        "<html>\n <head>\n  <title>Index of /dir</title>\n </head>\n <body>\n<h1>Index of /dir</h1>\n"
        '<ul><li><a href="/"> Parent Directory</a></li>\n'
        '<li><a href="b.txt"> b.txt</a></li>\n'
        '<li><a href="sub%20dir/"> sub dir/</a></li>\n'
        "</ul>\n</body></html>\n"
    )
    assert list(_heads(out)[0]) == ["Date", "Server", "Content-Length", "Content-Type"]
    assert _heads(out)[0]["Content-Type"] == "text/html;charset=ISO-8859-1"
    assert _heads(out)[0]["Content-Length"] == str(len(body))
    assert "Index of /dir/sub dir</title>" in _curl(lab, route, "/dir/sub%20dir/")[0]


def test_httpd_sends_a_long_listing_chunked(lab):
    """mod_autoindex writes through a buffer of 8000 bytes: a longer listing has no Content-Length,
    chunked to HTTP/1.1, until the connection closes to HTTP/1.0."""
    _serve(lab, "httpd", "many")
    docker(lab, f"exec web busybox sh -c 'cd {ROOT}/many; for i in $(seq 200); do echo > file-$i.txt; done'")
    out, _ = _curl(lab, "direct", "/many/", "-i", "--raw")
    head = _heads(out)[0]
    assert "Content-Length" not in head and head["Transfer-Encoding"] == "chunked"
    assert out.endswith("</ul>\n</body></html>\n\r\n0\r\n\r\n")
    decoded, _ = _curl(lab, "direct", "/many/")
    assert decoded.count("<li>") == 202 and decoded.endswith("</ul>\n</body></html>\n")  # parent, a.txt, 200
    old = _curl(lab, "direct", "/many/", "-0", "-i")[0]
    assert "Content-Length" not in _heads(old)[0] and _heads(old)[0]["Connection"] == "close"
    assert old.split("\r\n\r\n", 1)[1] == decoded


@pytest.mark.parametrize(
    ("image", "route", "location"),
    [
        # nginx: the Host header's host, and the port it listens on (80: none), port_in_redirect
        ("nginx", "published", "http://203.0.113.2/dir/"),
        ("nginx", "direct", "http://172.17.0.2/dir/"),
        # Apache, UseCanonicalName Off: the Host header as the client sent it
        ("httpd", "published", "http://203.0.113.2:8080/dir/"),
        ("httpd", "direct", "http://172.17.0.2/dir/"),
    ],
)
def test_a_directory_without_its_slash_is_redirected(lab, image, route, location):
    _serve(lab, image, "dir")
    out, _ = _curl(lab, route, "/dir", "-i")
    assert out.startswith("HTTP/1.1 301 Moved Permanently\r\n")
    assert _heads(out)[0]["Location"] == location
    if image == "httpd":
        assert f'<p>The document has moved <a href="{location}">here</a>.</p>\n' in out
    assert _heads(_curl(lab, route, "/dir?a=1", "-i")[0])[0]["Location"] == location + "?a=1"  # the query too
    # followed: Apache's listing, nginx's 403; through the published port, nginx's leads to port 80 of
    # the Docker host, where nothing listens
    followed, _ = _curl(lab, route, "/dir", "-L", "-o", "/dev/null", "-w", "%{http_code} %{url_effective}")
    code = {"httpd": "200", "nginx": "301" if route == "published" else "403"}[image]  # 301: the last answer
    assert followed == f"{code} {location}"


def test_nginx_redirect_names_the_host_header_and_its_own_port(lab):
    """The Host header's host lowercased without its port or trailing dot; without a Host header
    (HTTP/1.0) the address the connection came to."""
    _serve(lab, "nginx", "dir")
    out, _ = _curl(lab, "direct", "/dir", "-i", "-H", "Host: WWW.Example.COM.:9090")
    assert _heads(out)[0]["Location"] == "http://www.example.com/dir/"
    out, _ = _curl(lab, "direct", "/dir", "-i", "-0", "-H", "Host:")
    assert _heads(out)[0]["Location"] == "http://172.17.0.2/dir/"
    out, _ = _curl(lab, "direct", "/dir", "-i", "-H", "Host:")  # HTTP/1.1 needs one
    assert out.startswith("HTTP/1.1 400 Bad Request\r\n") and _heads(out)[0]["Connection"] == "close"
