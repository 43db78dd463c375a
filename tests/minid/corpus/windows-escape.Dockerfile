# escape=`
FROM mcr.microsoft.com/windows/servercore:ltsc2022
SHELL ["powershell", "-Command", "$ErrorActionPreference = 'Stop';"]
RUN New-Item -ItemType Directory C:\app
RUN Invoke-WebRequest https://example.invalid/tool.zip -OutFile C:\tool.zip
ENV TOOL_HOME C:\tool
ENV PATH="C:\tool\bin;${PATH}"
COPY app\ C:\app\
COPY conf\ C:\app\

FROM busybox:1.36 AS posix
RUN echo one > /one `
    && echo two > /two
RUN echo "back`tick" > /three
ENV A 'x y' z
ENV B=2
