# gridlock in a container: a FROM scratch image around the static binary.
#
# Build the binary first, on the host, next to this file:
#
#   CGO_ENABLED=0 go build -o gridlock .
#
# then: docker-compose up --build   (or: docker build -t gridlock .)
FROM scratch

COPY gridlock /gridlock

# The node keeps its data in /data (--data-dir=/data in the compose file),
# and its SSH host key with it:
# a named volume mounted there starts as a copy of this directory, owned by
# the user the node runs as.
COPY --chown=10001:10001 docker/data /data

# No root: any numeric uid works.
USER 10001:10001

# Client (TCP), replication (TCP), unicast heartbeat (UDP) and SSH (TCP)
# ports of server1..3 in docker-compose.yml; a lone container uses the
# first of each.
EXPOSE 8000-8002/tcp 8010-8012/tcp 8020-8022/udp 2222-2224/tcp

# Healthy when the node answers a status request on its client port. The
# compose file overrides the port for server2 and server3.
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=3 \
	CMD ["/gridlock", "serve", "--health", "127.0.0.1:8000"]

ENTRYPOINT ["/gridlock"]
CMD ["serve", "--id=1", "--bootstrap=1", "--data-dir=/data", "--tcp-port=8000", "--replication-port=8010", "--heartbeat-port=8020", "--group=off", "--listen=0.0.0.0", "--advertise=localhost:8000", "--ssh=:2222"]
