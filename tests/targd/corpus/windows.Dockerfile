# escape=`

FROM mcr.microsoft.com/dotnet/sdk:8.0-nanoserver-ltsc2022 AS build
WORKDIR C:\src
COPY *.csproj .
RUN dotnet restore
COPY . .
RUN dotnet publish -c Release -o C:\out `
    --no-restore

FROM mcr.microsoft.com/dotnet/sdk:8.0-nanoserver-ltsc2022 AS test
COPY --from=build C:\src C:\src
RUN dotnet test C:\src

FROM mcr.microsoft.com/dotnet/aspnet:8.0-nanoserver-ltsc2022
WORKDIR C:\app
COPY --from=0 C:\out .
ENTRYPOINT ["dotnet", "app.dll"]
