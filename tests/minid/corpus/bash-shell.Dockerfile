FROM ubuntu:24.04
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN curl -fsSL https://example.invalid/key.gpg | gpg --dearmor -o /usr/share/keyrings/x.gpg
RUN if [[ "$(uname -m)" == "x86_64" ]]; then echo amd64 > /arch; else echo other > /arch; fi
RUN case "$(uname -m)" in x86_64) ARCH=amd64 ;; aarch64) ARCH=arm64 ;; *) exit 1 ;; esac; echo $ARCH > /arch2
RUN for f in a b c; do touch /tmp/$f; done
RUN source /etc/os-release && echo "$ID" > /os
RUN cat <<< "here string" > /here
RUN sleep 10 & wait
RUN echo done
