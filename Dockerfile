# The watchpost center as a container image (README, "Installing it as a service"):
#   docker build -t watchpost .
#   docker run -v watchpost-data:/var/lib/watchpost -v /etc/watchpost:/etc/watchpost:ro \
#     -p 7100:7100/tcp -p 7100:7100/udp -p 8443:8443 watchpost
# The binary is built in the first stage with the locked dependency versions; the image
# that runs holds only it, as a user that is not root.

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p watchpost \
 && install -m 0755 target/release/watchpost /usr/local/bin/watchpost

FROM debian:bookworm-slim
# espeak-ng speaks the messages of the center's own SIP calls (telephony.tts); tini
# passes SIGTERM to the center and reaps what it starts.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates espeak-ng tini \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 watchpost \
 && useradd --system --uid 10001 --gid watchpost --home-dir /var/lib/watchpost \
      --shell /usr/sbin/nologin watchpost \
 && install -d -o watchpost -g watchpost -m 0700 /var/lib/watchpost \
 && install -d -m 0755 /etc/watchpost
COPY --from=build /usr/local/bin/watchpost /usr/local/bin/watchpost
COPY ops/center.toml /etc/watchpost/center.toml
USER watchpost
WORKDIR /var/lib/watchpost
VOLUME ["/var/lib/watchpost"]
# DC-09 receivers (TCP and UDP) and HTTPS, as in ops/center.toml.
EXPOSE 7100/tcp 7100/udp 8443/tcp
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/watchpost"]
CMD ["serve", "--config", "/etc/watchpost/center.toml"]
