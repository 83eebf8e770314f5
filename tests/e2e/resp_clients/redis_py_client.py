"""redis-py (Debian's python3-redis) with client_name= against PORT: PING, ECHO, CLIENT
GETNAME/SETNAME. Usage: python3 redis_py_client.py PORT. Exits 0 only if every reply is right."""
import sys

import redis

port = int(sys.argv[1])
client = redis.Redis(host="127.0.0.1", port=port, client_name="redis-py-test",
                     socket_timeout=10)
results = [client.ping(), client.echo("hello world"), client.client_getname(),
           client.client_setname("renamed"), client.client_getname()]
client.close()
print(f"redis-py {redis.__version__}: {results}")
expected = [True, b"hello world", "redis-py-test", True, "renamed"]
sys.exit(0 if results == expected else 1)
