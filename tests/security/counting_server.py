"""A server on another machine for the closed gate's tests (run in a network namespace): answers
every HTTP/1.1 request on a kept-alive connection with `connection N`, N counting the TCP
connections it accepted, so a test sees whether the proxy reused its connection.

Run: python counting_server.py ADDRESS PORT
"""

import socket
import sys
import threading


def serve(conn: socket.socket, number: int) -> None:
    pending = b""
    with conn:
        while data := conn.recv(65536):
            pending += data
            while b"\r\n\r\n" in pending:
                _, pending = pending.split(b"\r\n\r\n", 1)
                body = f"connection {number}\n".encode()
                head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                conn.sendall(head + body)


def main() -> None:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((sys.argv[1], int(sys.argv[2])))
    listener.listen(16)
    accepted = 0
    while True:
        conn, _ = listener.accept()
        accepted += 1
        threading.Thread(target=serve, args=(conn, accepted), daemon=True).start()


if __name__ == "__main__":
    main()
