# stage: effects
