"""cambrian on its CPU workers (see cambrian_graph.py)."""
import cambrian_graph

globals().update(cambrian_graph.make("cambrian cpu", "cpu"))
