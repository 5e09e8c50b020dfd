module github.com/switchboard-voice/switchboard

go 1.26.8
