from django import template

from core.members.skills import skill_label

register = template.Library()
register.filter("skill_label", skill_label)
