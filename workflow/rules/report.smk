# stage: report
