module gantry.dev/chart-render

go 1.19
