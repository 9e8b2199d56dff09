"""Pure renderers: model in, file contents and messages out."""
