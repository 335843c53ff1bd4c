# stage: progression
