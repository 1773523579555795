"""Pure coverage engine (AMO/AMC split, guarantees, 100% Santé). No Django, no project imports."""
