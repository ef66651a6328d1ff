"""Chinese of the upload forms, the journeys form and a dataset's page."""

CHINESE = {
    # upload page
    "Upload data": "上传数据",
    "Choose the kind of data you have. Each kind lists the columns it needs, with an example; "
    "a file can be CSV (with a header row) or Parquet. A refused file is not stored, and the "
    "message names the row and the column.":
        "请选择您手头数据的类型。每种类型都列出了所需的列并附有示例；文件可以是带表头的 CSV 或 "
        "Parquet。未通过检查的文件不会被保存，提示会指出出错的行和列。",
    "Kinds of data": "数据类型",
    "Journeys (paths)": "转化路径",
    "Touches": "触点",
    "Conversions": "转化",
    "Spend": "花费",
    "Outcomes": "结果",
    "Controls": "控制变量",
    "Lift tests": "增量实验",
    "Customer journeys, counted by path: what attribution compares models on.":
        "按路径汇总的用户旅程：归因分析用它来比较各模型。",
    "Every touch of every person (ad views, clicks, emails): journeys are built from touches "
    "and conversions.":
        "每个人的每一次触点（广告曝光、点击、邮件）：用户旅程由触点和转化构建。",
    "Every conversion of every person, with its value: journeys are built from touches and "
    "conversions.":
        "每个人的每一次转化及其价值：用户旅程由触点和转化构建。",
    "Media spend per date and channel: what a response model learns from, with outcomes.":
        "按日期和渠道的媒体花费：响应模型与结果数据一起从中学习。",
    "Conversions and revenue per date: what spend is fitted against.":
        "按日期的转化和收入：花费据此拟合。",
    "Other influences per date (promotions, holidays, price): a response model takes them "
    "into account.":
        "按日期的其他影响因素（促销、节假日、价格）：响应模型会将其考虑在内。",
    "Results of experiments that changed a channel's spend: they anchor a response model's "
    "curves.":
        "改变某渠道花费的实验结果：它们为响应模型的曲线提供锚点。",
    "Example of a {kind} file": "{kind}文件示例",
    "optional": "可选",
    'the channels of the journey in order, joined by " > "':
        '旅程中依次经过的渠道，用 " > " 连接',
    "how many journeys with this path converted (also: total_conversions)":
        "该路径中发生转化的旅程数（也可写作 total_conversions）",
    "how many journeys with this path did not convert (also: total_null)":
        "该路径中未转化的旅程数（也可写作 total_null）",
    "the conversion value of those journeys (also: total_conversion_value)":
        "这些旅程的转化价值（也可写作 total_conversion_value）",
    "who was touched; replaced by a pseudonym before it is stored":
        "被触达的人；保存前会替换为假名",
    "when: a date, or a date and time": "时间：日期，或日期加时刻",
    "where: the channel's name, as you want to see it": "渠道：渠道名称，按您希望看到的写法",
    "who converted; replaced by a pseudonym before it is stored":
        "发生转化的人；保存前会替换为假名",
    "what the conversion was worth": "这次转化的价值",
    "the first day of the week (or the day), one frequency per file":
        "该周的第一天（或当天），每个文件只用一种频率",
    "the channel's name": "渠道名称",
    "money spent; a missing row is no spend": "花费金额；缺少的行视为没有花费",
    "the first day of the week (or the day)": "该周的第一天（或当天）",
    "conversions in that period (this column, revenue, or both)":
        "该期间的转化数（本列、收入列，或两者都有）",
    "revenue in that period": "该期间的收入",
    "one column per control, any name: numbers such as 0 or 1, or a price":
        "每个控制变量一列，名称随意：取值为数字，如 0 或 1，或价格",
    "more controls, as many as you have": "更多控制变量，有多少列都可以",
    "the channel that was tested": "参与实验的渠道",
    "weekly spend before the test": "实验前的每周花费",
    "weekly spend during the test": "实验期间的每周花费",
    "the measured change in weekly conversions": "测得的每周转化变化",
    "the standard error of that change": "该变化的标准误",
    "File (CSV or Parquet)": "文件（CSV 或 Parquet）",
    "Leave it empty to use the file's name.": "留空则使用文件名。",
    "Upload {kind}": "上传{kind}",
    "Journeys from touches and conversions": "由触点和转化构建用户旅程",
    "Each conversion gets the person's touches since their previous conversion, within the "
    "look-back window. Touches after a person's last conversion make a journey that did not "
    "convert. The result is a paths dataset for attribution.":
        "每次转化获得此人自上次转化以来、回溯窗口内的触点。某人最后一次转化之后的触点构成一段未转化"
        "的旅程。结果是一个可用于归因的转化路径数据集。",
    "Look-back window (days)": "回溯窗口（天）",
    "A touch counts for a conversion up to this many days before it.":
        "转化前这么多天以内的触点会计入该转化。",
    "Separator of channels in a path": "路径中渠道的分隔符",
    "journeys": "用户旅程",
    "Build journeys": "构建用户旅程",
    # messages of the views
    "There is no upload form for this kind of data.": "没有这种数据类型的上传表单。",
    "Choose a CSV or Parquet file.": "请选择一个 CSV 或 Parquet 文件。",
    "The file must end in .csv or .parquet.": "文件名须以 .csv 或 .parquet 结尾。",
    "Choose a dataset of this workspace.": "请选择本工作区的数据集。",
    "No such dataset in this workspace.": "本工作区中没有这个数据集。",
    # a dataset's page
    "{journeys} journeys, of which {conversions} converted, worth {value}.":
        "共 {journeys} 段旅程，其中 {conversions} 段发生转化，价值 {value}。",
    "Built from touches and conversions with a look-back of {days} days; {dropped} conversions "
    "had no touch in their window.":
        "由触点和转化构建，回溯窗口 {days} 天；有 {dropped} 次转化在其窗口内没有触点。",
    "Touches of {users} people from {first} to {last}.":
        "{users} 人的触点，时间从 {first} 到 {last}。",
    "{conversions} conversions worth {value} by {users} people, from {first} to {last}.":
        "{users} 人的 {conversions} 次转化，价值 {value}，时间从 {first} 到 {last}。",
    "Weekly": "每周",
    "Daily": "每日",
    "{every} data from {first} to {last}: {periods} periods.":
        "{every}数据，从 {first} 到 {last}：共 {periods} 期。",
    "Spend in total: {spend}.": "花费合计：{spend}。",
    "Conversions in total: {conversions}.": "转化合计：{conversions}。",
    "Revenue in total: {revenue}.": "收入合计：{revenue}。",
    "Controls: {names}.": "控制变量：{names}。",
    "{tests} lift tests.": "{tests} 项增量实验。",
    "{count} channels: {names}.": "{count} 个渠道：{names}。",
    ", ": "、",
    "Compare attribution models on these journeys.": "在这些用户旅程上比较各归因模型。",
    "Fit a response model of spend to outcomes with this data.":
        "用这些数据拟合花费到结果的响应模型。",
    "Build journeys from touches and conversions.": "由触点和转化构建用户旅程。",
    "{count} columns": "{count} 列",
    "What it holds": "数据内容",
    "Spend by channel over the whole period": "整个期间各渠道的花费",
    "Channel": "渠道",
    "Share": "占比",
    "Total": "合计",
    "Columns:": "列：",
    "Built from:": "构建自：",
    "Your role cannot use this dataset for anything else; it can read it.":
        "您的角色只能查看此数据集，不能用它做其他操作。",
    "Audit facts": "审计信息",
    "Where this dataset comes from": "此数据集的来源",
    "Id": "编号",
    "Fingerprint": "指纹",
    "Size": "大小",
    "{bytes} bytes stored": "已存储 {bytes} 字节",
    "Delete": "删除",
    "Deleting this dataset also deletes every dataset built from it ({count}):":
        "删除此数据集也会删除由它构建的所有数据集（{count} 个）：",
    "Reports and models built on it keep their results. This cannot be undone.":
        "基于它生成的报告和模型会保留其结果。此操作无法撤销。",
    "Delete this dataset": "删除此数据集",
}
